package dev.tsm.callback;

import dev.tsm.Config;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Delivers the outbox, on every replica, every {@code tsm.callback.poll-interval}: claims the
 * deliveries due (at most {@code max-in-flight}), POSTs them side by side, records each outcome. A
 * 2xx answer delivers; anything else (another status, no answer within the timeout, no connection)
 * makes the delivery due again after a backoff that doubles up to {@code backoff-max}, until {@code
 * max-attempts}. The response's body is never read.
 */
@ApplicationScoped
public class CallbackSender {
  private static final Logger LOG = Logger.getLogger(CallbackSender.class);

  /** How long a claimed delivery stays this instance's beyond the attempt's own timeout. */
  private static final Duration LEASE_MARGIN = Duration.ofSeconds(5);

  private final Outbox outbox;
  private final CallbackBody bodies;
  private final Config.Callback config;
  private final HttpClient http;
  private volatile boolean stopping;

  CallbackSender(Outbox outbox, CallbackBody bodies, Config config) {
    this.outbox = outbox;
    this.bodies = bodies;
    this.config = config.callback();
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(this.config.timeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  void onStop(@Observes ShutdownEvent event) {
    stopping = true; // what is claimed is attempted again once its lease passes
  }

  @Scheduled(
      every = "${tsm.callback.poll-interval}",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void scheduled() {
    if (stopping) {
      return;
    }
    try {
      deliverDue();
    } catch (RuntimeException e) {
      LOG.warnf("callbacks could not be delivered this round: %s", e.getMessage());
    }
  }

  /** One round: the deliveries due, attempted side by side; returns how many were attempted. */
  int deliverDue() {
    List<Outbox.Claimed> due =
        outbox.claim(config.maxInFlight(), config.timeout().multipliedBy(2).plus(LEASE_MARGIN));
    List<CompletableFuture<Outcome>> attempts = new ArrayList<>();
    for (Outbox.Claimed claimed : due) {
      String body = claimed.body();
      if (body == null) {
        body = bodies.json(claimed.task());
        outbox.keepBody(claimed.id(), body);
      }
      attempts.add(attempt(claimed, body));
    }
    for (int i = 0; i < due.size(); i++) {
      record(due.get(i), attempts.get(i).join());
    }
    return due.size();
  }

  /** What became of one attempt: a status, or why there was none. */
  private record Outcome(Integer status, String error) {
    boolean delivered() {
      return status != null && status >= 200 && status < 300;
    }
  }

  private CompletableFuture<Outcome> attempt(Outbox.Claimed claimed, String body) {
    URI url;
    try {
      url = URI.create(claimed.url());
      String refused = refusedHost(url.getHost());
      if (refused != null) {
        return CompletableFuture.completedFuture(new Outcome(null, refused));
      }
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(new Outcome(null, "bad URL: " + e.getMessage()));
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(url)
            .timeout(config.timeout())
            .header("Content-Type", "application/json")
            .header("X-TSM-Delivery", claimed.id().toString())
            .header("X-TSM-Event", "task." + claimed.event())
            .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
    config
        .secret()
        .ifPresent(secret -> request.header(Signature.HEADER, Signature.of(secret, bytes)));
    return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream())
        .orTimeout(config.timeout().toMillis() * 2, TimeUnit.MILLISECONDS)
        .handle(
            (response, error) -> {
              if (error != null) {
                return new Outcome(null, describe(error));
              }
              close(response.body()); // the body is not read: the status says it all
              return new Outcome(response.statusCode(), null);
            });
  }

  private void record(Outbox.Claimed claimed, Outcome outcome) {
    if (outcome.delivered()) {
      outbox.delivered(claimed.id(), outcome.status());
      return;
    }
    String error = outcome.error() != null ? outcome.error() : "HTTP " + outcome.status();
    boolean refused = outcome.error() != null && outcome.error().startsWith(REFUSED);
    boolean last = refused || claimed.attempts() >= config.maxAttempts();
    outbox.failed(claimed.id(), outcome.status(), error, backoff(claimed.attempts()), last);
    LOG.infof(
        "callback %s (task %s %s) to %s: %s%s",
        claimed.id(),
        claimed.task().id(),
        claimed.event(),
        claimed.url(),
        error,
        last ? "; given up after " + claimed.attempts() + " attempts" : "");
  }

  /** base * 2^(attempts-1), at most max, less up to a half at random so retries spread out. */
  Duration backoff(int attempts) {
    long base = config.backoffBase().toMillis();
    long max = config.backoffMax().toMillis();
    long wait = base << Math.min(Math.max(attempts - 1, 0), 30);
    wait = Math.min(wait <= 0 ? max : wait, max);
    return Duration.ofMillis(wait - ThreadLocalRandom.current().nextLong(wait / 2 + 1));
  }

  private static final String REFUSED = "refused: ";

  /**
   * Why a host may not be called (it has an internal address and {@code
   * tsm.callback.allow-internal-addresses} is off), or null. A name is resolved here and again by
   * the HTTP client: see docs/configuration.md on what this does not stop.
   */
  private String refusedHost(String host) {
    if (config.allowInternalAddresses()) {
      return null;
    }
    try {
      for (InetAddress address : InetAddress.getAllByName(host)) {
        if (internal(address)) {
          return REFUSED
              + host
              + " has the internal address "
              + address.getHostAddress()
              + " (tsm.callback.allow-internal-addresses is false)";
        }
      }
      return null;
    } catch (UnknownHostException e) {
      return null; // the attempt fails on its own, and is retried
    }
  }

  static boolean internal(InetAddress a) {
    byte[] b = a.getAddress();
    boolean uniqueLocal = b.length == 16 && (b[0] & 0xfe) == 0xfc;
    return a.isLoopbackAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isAnyLocalAddress()
        || a.isMulticastAddress()
        || uniqueLocal;
  }

  private static String describe(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private static void close(InputStream body) {
    try {
      body.close();
    } catch (IOException e) {
      // nothing was read; the connection is dropped
    }
  }
}
