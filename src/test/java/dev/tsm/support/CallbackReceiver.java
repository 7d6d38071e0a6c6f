package dev.tsm.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A real HTTP server taking the service's completion callbacks on {@code POST /hook}: records each
 * request, answers the queued statuses and then 200. It can die on the next request (read, never
 * answered, the server gone), or hold requests unanswered until released (a receiver that stalls).
 */
public final class CallbackReceiver {
  /** The secret the test profile signs with ({@code %test.tsm.callback.secret}). */
  public static final String TEST_SECRET = "test-callback-secret";

  /** A request the receiver took; {@code answered} 0: it died or stalled instead of answering. */
  public record Received(
      String delivery, String event, String signature, String body, int answered) {
    public boolean signedWith(String secret) {
      return hmac(secret, body).equals(signature);
    }

    public String taskId() {
      return new JsonObject(body).getString("id");
    }
  }

  public final int port;
  private final HttpServer server;
  private final String secret;
  public final List<Received> received = new CopyOnWriteArrayList<>();
  public final Queue<Integer> answers = new ConcurrentLinkedQueue<>();
  public final AtomicBoolean dieOnNextRequest = new AtomicBoolean();
  public final AtomicBoolean killed = new AtomicBoolean();
  private volatile CountDownLatch stall;

  /** On {@code port} (0: any free one), checking signatures made with {@code secret}. */
  public CallbackReceiver(int port, String secret) {
    this.secret = secret;
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/hook", this::handle);
    server.start();
    this.port = server.getAddress().getPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port + "/hook";
  }

  /** The requests that carried the task {@code taskId}. */
  public List<Received> of(String taskId) {
    return received.stream().filter(r -> taskId.equals(r.taskId())).toList();
  }

  /** Whether a request's signature is the HMAC of its body with this receiver's secret. */
  public boolean signedCorrectly(Received r) {
    return r.signedWith(secret);
  }

  /** From now on, requests are read and then held unanswered until {@link #release()}. */
  public void stall() {
    stall = new CountDownLatch(1);
  }

  /** Stops stalling: held requests are dropped unanswered, later ones answered. */
  public void release() {
    CountDownLatch s = stall;
    stall = null;
    if (s != null) {
      s.countDown();
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String delivery = exchange.getRequestHeaders().getFirst("X-TSM-Delivery");
    String event = exchange.getRequestHeaders().getFirst("X-TSM-Event");
    String signature = exchange.getRequestHeaders().getFirst("X-TSM-Signature");
    if (killed.get() || dieOnNextRequest.getAndSet(false)) {
      killed.set(true);
      received.add(new Received(delivery, event, signature, body, 0));
      exchange.close();
      new Thread(this::stop).start();
      return;
    }
    CountDownLatch s = stall;
    if (s != null) {
      received.add(new Received(delivery, event, signature, body, 0));
      try {
        s.await(5, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.close();
      return;
    }
    Integer queued = answers.poll();
    int status = queued == null ? 200 : queued;
    received.add(new Received(delivery, event, signature, body, status));
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  public void stop() {
    release();
    server.stop(0);
  }

  /** {@code sha256=<hex of the HMAC-SHA256 of body>}, as X-TSM-Signature carries it. */
  public static String hmac(String secret, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256="
          + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }
}
