package dev.tsm.web;

import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.idempotency.IdempotencyKeys;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.Response;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code Idempotency-Key} on the requests that create tasks (IETF httpapi draft): a repeat of a
 * request with the same key answers what the first one created, without doing it again; the same
 * key on another request is refused (422), and one whose first request is still in flight too
 * (409). Keys are the caller's own and live in the database ({@link IdempotencyKeys}).
 *
 * <p>The fingerprint of a request is its method, path and query parameters (sorted by name), and
 * what stands for its body: the canonical JSON of a JSON body; for a file, which may be gigabytes
 * and is never read twice, the headers that describe it (Content-Type, Content-Length and
 * Content-Encoding of a raw body; the media type of a multipart one, whose boundary and so length
 * change from one sending to the next; for a tus creation Upload-Length, Upload-Defer-Length and
 * Upload-Metadata).
 */
@ApplicationScoped
class Idempotency {
  static final String HEADER = "Idempotency-Key";
  static final String EXAMPLE = "5f0c6c1e-2b1a-4c53-9a7e-3f9a0d1b2c3d";
  static final String DESCRIPTION =
      "1 to 255 visible ASCII characters, unique per request (a UUID, say). A repeat with the same"
          + " key and the same request, within tsm.idempotency.key-ttl (24h by default), answers"
          + " the task the first one created, without reading its body again; the same key on a"
          + " different request gets 422. Keys are per caller.";
  static final String IN_PROGRESS_UPPER =
      "The first request with this Idempotency-Key is still in progress: retry once it answered";
  static final String IN_PROGRESS_LOWER =
      "the first request with this Idempotency-Key is still in progress: retry once it answered";
  static final String OTHER_REQUEST =
      "This Idempotency-Key was used for a different request (another path, parameters or body)";
  private static final int MAX_LENGTH = 255;

  /** The task a request created or, for a repeat, the one its first request created. */
  record Outcome(UUID taskId, String location, boolean repeat) {
    static Outcome created(UUID taskId, String location) {
      return new Outcome(taskId, location, false);
    }
  }

  private final IdempotencyKeys keys;

  Idempotency(IdempotencyKeys keys) {
    this.keys = keys;
  }

  /** The request's key, or null without one; 400 for a malformed key or more than one. */
  static String key(HttpServerRequest http) {
    List<String> values = http.headers().getAll(HEADER);
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw Refusal.invalid("send one Idempotency-Key header, not " + values.size());
    }
    String key = values.get(0);
    if (key.isEmpty()
        || key.length() > MAX_LENGTH
        || !key.chars().allMatch(c -> c > 32 && c < 127)) {
      throw Refusal.invalid(
          "Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), such as a UUID");
    }
    return key;
  }

  /**
   * The fingerprint of the request: method, path, sorted query parameters, the named headers and
   * {@code body} (canonical JSON, or null), hashed (SHA-256, hex).
   */
  static String fingerprint(HttpServerRequest http, String body, String... headers) {
    StringBuilder text = new StringBuilder();
    text.append(http.method().name()).append(' ').append(http.path()).append('\n');
    List<Map.Entry<String, String>> params = new ArrayList<>(http.params().entries());
    params.sort(Comparator.comparing(Map.Entry::getKey)); // stable: a name's values keep order
    for (Map.Entry<String, String> p : params) {
      text.append(encode(p.getKey())).append('=').append(encode(p.getValue())).append('&');
    }
    text.append('\n');
    for (String header : headers) {
      String value = http.getHeader(header);
      text.append(header.toLowerCase(Locale.ROOT)).append(": ");
      text.append(value == null ? "" : normalized(header, value.trim())).append('\n');
    }
    if (body != null) {
      text.append('\n').append(body);
    }
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A multipart boundary differs from one sending of the same form to the next. */
  private static String normalized(String header, String value) {
    if (!"Content-Type".equalsIgnoreCase(header)) {
      return value;
    }
    StringBuilder type = new StringBuilder();
    for (String part : value.split(";")) {
      String p = part.trim();
      if (!p.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
        type.append(type.length() == 0 ? "" : ";").append(p.toLowerCase(Locale.ROOT));
      }
    }
    return type.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /**
   * Blocking: without a key, what {@code create} creates; with one, the first request's task for a
   * repeat, else what {@code create} creates, recorded under the key (given back if it fails).
   */
  Outcome once(Caller caller, String key, String fingerprint, Supplier<Outcome> create) {
    if (key == null) {
      return create.get();
    }
    IdempotencyKeys.Claim claim = keys.claim(caller.subject(), key, fingerprint);
    if (!claim.isNew()) {
      return new Outcome(claim.taskId(), claim.location(), true);
    }
    Outcome created;
    try {
      created = create.get();
    } catch (RuntimeException e) {
      keys.release(caller.subject(), key);
      throw e;
    }
    keys.complete(caller.subject(), key, created.taskId(), created.location());
    return created;
  }

  /**
   * The reactive form, for a body still to be read (imports): the key is claimed on a worker, then,
   * back on the request's context, a repeat is answered by {@code repeat} and a first request runs
   * {@code create}; its task is recorded under the key even if the client goes away meanwhile.
   */
  Uni<Response> once(
      Caller caller,
      String key,
      String fingerprint,
      Supplier<Uni<UUID>> create,
      Function<UUID, Uni<Response>> answer,
      Function<UUID, Uni<Response>> repeat) {
    Context context = Vertx.currentContext();
    String subject = caller.subject();
    return onWorker(() -> keys.claim(subject, key, fingerprint))
        .emitOn(run -> context.runOnContext(v -> run.run()))
        .flatMap(
            claim -> {
              if (!claim.isNew()) {
                return repeat.apply(claim.taskId());
              }
              // Deferred: a refusal create throws at once (busy, say) gives the key back too.
              Uni<UUID> recorded =
                  Uni.createFrom()
                      .<UUID>deferred(create::get)
                      .call(
                          id ->
                              onWorker(
                                  () -> {
                                    keys.complete(subject, key, id, "/tasks/" + id);
                                    return id;
                                  }))
                      .onFailure()
                      .call(
                          failure ->
                              onWorker(
                                  () -> {
                                    keys.release(subject, key);
                                    return failure;
                                  }))
                      .memoize()
                      .indefinitely();
              recorded.subscribe().with(id -> {}, failure -> {});
              return recorded.flatMap(answer::apply);
            });
  }

  /**
   * A repeat answered without reading its body: the connection is closed after the answer when a
   * body is left, as for an early refusal; an empty one is read and dropped.
   */
  static Response unread(Response answer, RoutingContext routing) {
    if (!UnreadBody.answered(answer, routing, false)) {
      routing.request().resume();
    }
    return answer;
  }

  private static <T> Uni<T> onWorker(Supplier<T> work) {
    return Uni.createFrom().item(work).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
  }
}
