package dev.tsm.exporting;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.Db;
import dev.tsm.support.Exports;
import dev.tsm.support.Problems;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.StreamResetException;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bounds of downloads that follow running exports, each from both sides: {@code
 * tsm.export.max-followers} (one past it is refused until one ends), {@code
 * tsm.export.follow-idle-timeout} while no page comes (a paused export) and while the client takes
 * no bytes (a client that stops reading is cut and its place given back, its connection over
 * HTTP/1.1 and its stream alone over HTTP/2; one that pauses for less than the bound is not). Every
 * body is compared with {@code psql \copy}'s file.
 */
@QuarkusTest
@TestProfile(FollowLimitsTest.OneFollowerTwoSeconds.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class FollowLimitsTest {
  private static final Duration IDLE = Duration.ofSeconds(2);

  /** Room for one followed download; two seconds without progress ends it. */
  public static class OneFollowerTwoSeconds implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "tsm.export.max-followers", "1", "tsm.export.follow-idle-timeout", IDLE.toString());
    }
  }

  @TestHTTPResource("/")
  URL base;

  /** A table of {@code rows} rows of about 330 bytes; returns psql's file of it. */
  private static byte[] table(String name, int rows) {
    Db.execute("CREATE TABLE public." + name + " (id bigint PRIMARY KEY, label text)");
    Db.execute(
        "INSERT INTO public."
            + name
            + " SELECT g, md5(g::text) || repeat(', \"q\" ', 30) || g FROM generate_series(1, "
            + rows
            + ") g");
    return Exports.reference(name, "SELECT * FROM public." + name + " ORDER BY id", ", HEADER");
  }

  @Test
  void aFollowPastTheLimitIs503UntilTheFollowingOneEnds() throws Exception {
    byte[] expectedA = table("fl_limit_a", 60000);
    table("fl_limit_b", 60000);
    String a = Exports.start(Map.of("table", "fl_limit_a"));
    String b = Exports.start(Map.of("table", "fl_limit_b"));
    assertNotNull(Api.pauseAt(a, 1000), "a paused before its end");
    assertNotNull(Api.pauseAt(b, 1000), "b paused before its end");
    HttpResponse<InputStream> first = awaitFollow(a, Duration.ofSeconds(10));
    assertEquals(200, first.statusCode());
    CompletableFuture<byte[]> body = Exports.readAll(first);

    // One place, taken: the second is refused while the first follows.
    Response refused = given().get("/tasks/" + b + "/file?follow=true");
    Problems.assertProblem(refused, 503, "tsm.export.max-followers");
    assertEquals("5", refused.header("Retry-After"));
    Api.command(a, "resume").then().statusCode(202);

    Exports.assertSameBytes(expectedA, body.get(60, TimeUnit.SECONDS), "followed " + a);
    // Its place is given back as its body ends.
    HttpResponse<InputStream> second = awaitFollow(b, Duration.ofSeconds(10));
    assertEquals(200, second.statusCode());
    second.body().close();
    Api.command(b, "terminate").then().statusCode(202);
  }

  @Test
  void aFollowOfAPausedExportIsCutAfterTheIdleTimeoutNotBefore() throws Exception {
    byte[] expected = table("fl_idle", 60000);
    String id = Exports.start(Map.of("table", "fl_idle"));
    assertNotNull(Api.pauseAt(id, 2000), "paused before its end");
    HttpResponse<InputStream> followed = awaitFollow(id, Duration.ofSeconds(10));
    assertEquals(200, followed.statusCode());
    long opened = System.nanoTime();
    CompletableFuture<byte[]> body = Exports.readAll(followed);

    Thread.sleep(IDLE.toMillis() / 2);
    assertFalse(body.isDone(), "still open at half the idle timeout");
    ExecutionException cut =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> body.get(20, TimeUnit.SECONDS));
    assertTrue(cut.getCause() instanceof IOException, String.valueOf(cut.getCause()));
    assertTrue(
        System.nanoTime() - opened >= IDLE.toNanos() - TimeUnit.MILLISECONDS.toNanos(100),
        "not cut before the idle timeout");

    // The export itself is untouched: resumed, it completes to psql's file.
    Api.command(id, "resume").then().statusCode(202);
    Api.awaitState(id, "COMPLETED");
    Exports.assertSameBytes(expected, Exports.download(id), "export " + id);
  }

  @Test
  void aClientThatStopsReadingIsCutAndItsPlaceGivenBack() throws Exception {
    Two two = runningAndPaused("fl_silent"); // 17 MB: far more than the sockets hold
    byte[] expected = two.expected();
    String id = two.id();
    String other = two.other();
    try (Raw silent = request(id)) {
      // It reads nothing while the export runs to its end.
      Api.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
      HttpResponse<InputStream> next = awaitFollow(other, Duration.ofSeconds(30));
      assertEquals(200, next.statusCode(), "the silent client's place is given back");
      next.body().close();

      Chunked got = silent.body().readAll();
      assertFalse(got.complete, "the silent client's body is cut before its end");
      byte[] bytes = got.bytes();
      assertTrue(bytes.length < expected.length, bytes.length + " bytes");
      Exports.assertSameBytes(
          Arrays.copyOf(expected, bytes.length), bytes, "what the silent client got");
    }
    Exports.assertSameBytes(expected, Exports.download(id), "export " + id);
    Api.command(other, "terminate").then().statusCode(202);
  }

  @Test
  void anHttp2ClientThatStopsReadingHasItsStreamResetAndItsPlaceGivenBack() throws Exception {
    Two two = runningAndPaused("fl_h2");
    byte[] expected = two.expected();
    String id = two.id();
    String other = two.other();
    Vertx vertx = Vertx.vertx();
    try {
      // HTTP/2 over plain TCP (prior knowledge). A paused response is not consumed, so the client
      // grants no more flow-control window: the service's stream stops after 64 KB while its
      // connection stays open and idle, and only the stream can be cut.
      HttpClient client =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setProtocolVersion(HttpVersion.HTTP_2)
                  .setHttp2ClearTextUpgrade(false));
      CompletableFuture<HttpVersion> answered = new CompletableFuture<>();
      CompletableFuture<Throwable> ended = new CompletableFuture<>();
      client
          .request(
              new RequestOptions()
                  .setMethod(HttpMethod.GET)
                  .setHost(base.getHost())
                  .setPort(base.getPort())
                  .setURI("/tasks/" + id + "/file?follow=true")
                  .putHeader("Authorization", Auth.bearer(Auth.ALICE)))
          .compose(HttpClientRequest::send)
          .onSuccess(
              response -> {
                response.pause();
                response.exceptionHandler(ended::complete);
                response.endHandler(done -> ended.complete(null));
                answered.complete(response.version());
                if (response.statusCode() != 200) {
                  answered.obtrudeException(
                      new AssertionError("follow answered " + response.statusCode()));
                }
              })
          .onFailure(answered::completeExceptionally);
      assertEquals(HttpVersion.HTTP_2, answered.get(30, TimeUnit.SECONDS));

      Api.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
      Throwable cut = ended.get(30, TimeUnit.SECONDS);
      assertTrue(cut instanceof StreamResetException, "the stream is reset: " + cut);
      HttpResponse<InputStream> next = awaitFollow(other, Duration.ofSeconds(30));
      assertEquals(200, next.statusCode(), "the stalled stream's place is given back");
      next.body().close();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    Exports.assertSameBytes(expected, Exports.download(id), "export " + id);
    Api.command(other, "terminate").then().statusCode(202);
  }

  @Test
  void aClientThatPausesForLessThanTheBoundGetsTheWholeFile() throws Exception {
    // Each burst reads more than the kernel can hold for it (the send buffer's maximum and the
    // receive buffer), so the service's blocked write has gone on during it; then the client
    // stops for half the bound. Five bursts' worth of file: at least four stops.
    long burst = sendBufferMax() + (2 << 20);
    byte[] expected = table("fl_slow", (int) (5 * burst / 285));
    String id = Exports.start(Map.of("table", "fl_slow"));
    try (Raw slow = request(id)) {
      Chunked in = slow.body();
      int pauses = 0;
      while (in.read(burst).open()) {
        Thread.sleep(IDLE.toMillis() / 2);
        pauses++;
      }
      assertTrue(in.complete, "the slow client's body ends properly");
      assertTrue(pauses >= 4, pauses + " pauses");
      Exports.assertSameBytes(expected, in.bytes(), "what the slow client got");
    }
    Api.awaitState(id, "COMPLETED");
  }

  /** A running export, psql's file of its table, and another export paused at 1,000 rows. */
  private record Two(byte[] expected, String id, String other) {}

  private static Two runningAndPaused(String name) {
    byte[] expected = table(name, 60000);
    table(name + "_other", 60000);
    String id = Exports.start(Map.of("table", name));
    String other = Exports.start(Map.of("table", name + "_other"));
    assertNotNull(Api.pauseAt(other, 1000), "the other paused before its end");
    return new Two(expected, id, other);
  }

  /** The most a TCP socket's send buffer grows to here ({@code net.ipv4.tcp_wmem}'s maximum). */
  private static long sendBufferMax() throws IOException {
    // readAllLines: a whole-file read of /proc stops at the size the file claims.
    String[] wmem =
        java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_wmem"))
            .get(0)
            .trim()
            .split("\\s+");
    return Long.parseLong(wmem[2]);
  }

  /** GET ?follow=true until it is not 503 (a place is given back as a body ends). */
  private HttpResponse<InputStream> awaitFollow(String id, Duration atMost) throws Exception {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (true) {
      HttpResponse<InputStream> r = Exports.follow(base, id);
      if (r.statusCode() != 503 || System.nanoTime() > deadline) {
        return r;
      }
      r.body().close();
      Thread.sleep(100);
    }
  }

  /** A followed download over a plain socket, its head read. */
  private record Raw(Socket socket, Chunked body) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * A followed download asked over a plain socket that buffers little, so what the client does not
   * read stays in the service's socket, then in its response; asked again while the one place is
   * still held (by a download of a test before, until its idle timeout).
   */
  private Raw request(String id) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Socket socket = new Socket();
      socket.setReceiveBufferSize(4096);
      socket.setSoTimeout(60_000);
      socket.connect(new InetSocketAddress(base.getHost(), base.getPort()));
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /tasks/"
                  + id
                  + "/file?follow=true HTTP/1.1\r\nHost: localhost\r\n"
                  + Auth.headerLine()
                  + "\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Chunked body = new Chunked(socket.getInputStream());
      int status = body.head();
      if (status == 200) {
        return new Raw(socket, body);
      }
      socket.close();
      assertTrue(status == 503 && System.nanoTime() < deadline, "follow answered " + status);
      Thread.sleep(100);
    }
  }

  /** A chunked response read off a socket, a piece at a time. */
  private static final class Chunked {
    private final InputStream in;
    private final ByteArrayOutputStream got = new ByteArrayOutputStream();
    private long left;
    private boolean complete;
    private boolean cut;

    Chunked(InputStream in) {
      this.in = in;
    }

    /** Reads the response's head; returns its status. */
    int head() throws IOException {
      String status = line();
      while (!line().isEmpty()) {
        // a header
      }
      return Integer.parseInt(status.substring(9, 12));
    }

    /**
     * Reads on up to {@code limit} more bytes of the body, or its end, or the connection's end or
     * reset.
     */
    Chunked read(long limit) throws IOException {
      long until = got.size() + limit;
      try {
        while (!complete && got.size() < until) {
          if (left == 0) {
            String size = line();
            if (size.isEmpty()) {
              size = line(); // the CRLF after the previous chunk's data
            }
            left = Long.parseLong(size.split(";")[0].trim(), 16);
            complete = left == 0;
            continue;
          }
          byte[] buffer = new byte[(int) Math.min(8192, Math.min(left, until - got.size()))];
          int n = in.read(buffer);
          if (n < 0) {
            throw new EOFException();
          }
          got.write(buffer, 0, n);
          left -= n;
        }
      } catch (EOFException | java.net.SocketException e) {
        cut = true;
      }
      return this;
    }

    /** Neither ended nor cut. */
    boolean open() {
      return !complete && !cut;
    }

    Chunked readAll() throws IOException {
      while (!complete && !cut) {
        read(Long.MAX_VALUE);
      }
      return this;
    }

    byte[] bytes() {
      return got.toByteArray();
    }

    private String line() throws IOException {
      StringBuilder s = new StringBuilder();
      int c;
      while ((c = in.read()) != '\n') {
        if (c < 0) {
          throw new EOFException();
        }
        if (c != '\r') {
          s.append((char) c);
        }
      }
      return s.toString();
    }
  }
}
