package dev.tsm.auth;

import dev.tsm.Config;
import dev.tsm.Refusal;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * No state changes from other sites. A browser sends {@code Origin} (and {@code Sec-Fetch-Site})
 * with every cross-site POST, even a plain form or a {@code text/plain} body, which CORS does not
 * stop: such a request is refused (403) before anything runs, whatever it is authenticated with,
 * unless its origin is one of {@code quarkus.http.cors.origins}. A request signed in by the page's
 * cookie must moreover say it comes from the page itself. Clients with a bearer token send neither
 * header and are not concerned.
 */
@ApplicationScoped
public class SameOrigin {
  private static final Set<HttpMethod> SAFE =
      Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

  /** Other sites' pages allowed to call (CORS). */
  private final Set<String> allowed = new HashSet<>();

  /** The page's own origin where users reach it through a proxy (tsm.security.public-url). */
  private final String publicOrigin;

  private final Sessions sessions;

  SameOrigin(Config config, Sessions sessions) {
    this.sessions = sessions;
    this.publicOrigin = config.security().publicUrl().map(SameOrigin::origin).orElse(null);
    ConfigProvider.getConfig()
        .getOptionalValues("quarkus.http.cors.origins", String.class)
        .orElse(List.of())
        .forEach(o -> allowed.add(o.trim().toLowerCase(Locale.ROOT)));
  }

  @ServerRequestFilter(preMatching = true)
  public void check(HttpServerRequest request) {
    if (SAFE.contains(request.method())) {
      return;
    }
    String origin = request.getHeader("Origin");
    String site = request.getHeader("Sec-Fetch-Site");
    // From the page itself: as the request reaches the service, or as users reach it.
    boolean fromHere = origin != null && isOwn(origin, request);
    boolean listed = origin != null && allowed.contains(origin.toLowerCase(Locale.ROOT));
    if (origin != null && !fromHere && !listed) {
      throw Refusal.forbidden(
          "a "
              + request.method()
              + " from "
              + origin
              + " is refused: commands and uploads are taken from this service's own page and"
              + " from clients with a token, not from other sites");
    }
    if (("cross-site".equals(site) || "same-site".equals(site)) && !listed) {
      throw Refusal.forbidden(
          "a " + request.method() + " sent from another site (" + site + ") is refused");
    }
    // Signed in by a valid session cookie (an invalid one is no credential: the answer is 401).
    boolean byCookie =
        request.getHeader("Authorization") == null
            && request.getCookie(Sessions.COOKIE) != null
            && sessions.read(request.getCookie(Sessions.COOKIE).getValue()).isPresent();
    if (byCookie && !fromHere && !"same-origin".equals(site)) {
      throw Refusal.forbidden(
          "a "
              + request.method()
              + " signed in by the page's session cookie must come from the page (it sends an"
              + " Origin header); other clients authenticate with a bearer token");
    }
  }

  private boolean isOwn(String origin, HttpServerRequest request) {
    if (origin.equalsIgnoreCase(publicOrigin)) {
      return true;
    }
    String host = request.authority() == null ? null : request.authority().toString();
    if (host == null) {
      host = request.getHeader("Host");
    }
    return host != null && origin.equalsIgnoreCase(request.scheme() + "://" + host);
  }

  private static String origin(String url) {
    URI uri = URI.create(url.trim());
    String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
    return (uri.getScheme() + "://" + uri.getHost() + port).toLowerCase(Locale.ROOT);
  }
}
