package dev.tsm.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The HTTP layer's own limit on a declared body ({@code quarkus.http.limits.max-body-size}),
 * answered as problem+json. Quarkus checks it in a route of its own (order -2) that answers an
 * empty 413 to any request whose Content-Length passes it, before any resource runs; this route
 * comes first with the same check. (Quarkus counts a body without Content-Length only where it
 * reads the body itself, which here is JSON only, bounded lower by {@code
 * tsm.http.max-json-body-size}.)
 */
@ApplicationScoped
class HttpBodyLimit {
  private static final String KEY = "quarkus.http.limits.max-body-size";

  private final Optional<MemorySize> max;
  private final ObjectMapper json;

  HttpBodyLimit(@ConfigProperty(name = KEY) Optional<MemorySize> max, ObjectMapper json) {
    this.max = max;
    this.json = json;
  }

  void install(@Observes Router router) {
    max.ifPresent(
        limit -> router.route().order(-3).handler(ctx -> check(ctx, limit.asLongValue())));
  }

  private void check(RoutingContext ctx, long limit) {
    HttpServerRequest request = ctx.request();
    String length = request.getHeader("Content-Length");
    if (length == null || declared(length) <= limit) {
      ctx.next();
      return;
    }
    Problem problem =
        new Problem(
            "about:blank",
            "Request Entity Too Large",
            413,
            "the body is larger than the limit of " + limit + " bytes (" + KEY + ")",
            request.path(),
            null);
    String body;
    try {
      body = json.writeValueAsString(problem);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    var response = ctx.response().setStatusCode(413).putHeader("Content-Type", Problem.MEDIA_TYPE);
    if (UnreadBody.closeAfterAnswer(ctx, false)
        && !"close".equalsIgnoreCase(request.getHeader("Connection"))) {
      response.putHeader("Connection", "close");
    }
    response.end(body);
  }

  private static long declared(String length) {
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return -1; // left to the HTTP codec, which refuses it
    }
  }
}
