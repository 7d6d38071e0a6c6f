package dev.tsm.exporting;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Exports;
import dev.tsm.support.Http2Client;
import dev.tsm.support.Problems;
import dev.tsm.support.SocketClient;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.StreamResetException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.http.HttpResponse;
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
 * tsm.export.follow-idle-timeout} while no page comes (a paused export), and {@code
 * tsm.export.download-idle-timeout} while the client takes no bytes (a client that stops reading is
 * cut and its place given back, its connection over HTTP/1.1 and its stream alone over HTTP/2; one
 * that pauses for less than the bound is not). Every body is compared with {@code psql \copy}'s
 * file.
 */
@QuarkusTest
@TestProfile(FollowLimitsTest.OneFollowerTwoSeconds.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class FollowLimitsTest {
  private static final Duration IDLE = Duration.ofSeconds(2);

  /** Room for one followed download; two seconds without progress, either side, ends it. */
  public static class OneFollowerTwoSeconds implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "tsm.export.max-followers",
          "1",
          "tsm.export.follow-idle-timeout",
          IDLE.toString(),
          "tsm.export.download-idle-timeout",
          IDLE.toString());
    }
  }

  @TestHTTPResource("/")
  URL base;

  @Test
  void aFollowPastTheLimitIs503UntilTheFollowingOneEnds() throws Exception {
    byte[] expectedA = Exports.labelledTable("fl_limit_a", 60000);
    Exports.labelledTable("fl_limit_b", 60000);
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
    byte[] expected = Exports.labelledTable("fl_idle", 60000);
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
    try (SocketClient silent = request(id)) {
      // It reads nothing while the export runs to its end.
      Api.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
      HttpResponse<InputStream> next = awaitFollow(other, Duration.ofSeconds(30));
      assertEquals(200, next.statusCode(), "the silent client's place is given back");
      next.body().close();

      silent.readAll();
      assertFalse(silent.complete(), "the silent client's body is cut before its end");
      byte[] bytes = silent.bytes();
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
    try (Http2Client client = new Http2Client(base)) {
      // The service's stream stops after 64 KB while its connection stays open and idle, and
      // only the stream can be cut.
      Http2Client.Stalled stalled = client.stall("/tasks/" + id + "/file?follow=true");
      assertEquals(HttpVersion.HTTP_2, stalled.response().version());
      assertEquals(200, stalled.response().statusCode());

      Api.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
      Throwable cut = stalled.ended().get(30, TimeUnit.SECONDS);
      assertTrue(cut instanceof StreamResetException, "the stream is reset: " + cut);
      HttpResponse<InputStream> next = awaitFollow(other, Duration.ofSeconds(30));
      assertEquals(200, next.statusCode(), "the stalled stream's place is given back");
      next.body().close();
    }
    Exports.assertSameBytes(expected, Exports.download(id), "export " + id);
    Api.command(other, "terminate").then().statusCode(202);
  }

  @Test
  void aClientThatPausesForLessThanTheBoundGetsTheWholeFile() throws Exception {
    // Each burst reads more than the kernel can hold for it (the send buffer's maximum and the
    // receive buffer), so the service's blocked write has gone on during it; then the client
    // stops for half the bound. Five bursts' worth of file: at least four stops.
    long burst = SocketClient.sendBufferMax() + (2 << 20);
    byte[] expected = Exports.labelledTable("fl_slow", (int) (5 * burst / 285));
    String id = Exports.start(Map.of("table", "fl_slow"));
    try (SocketClient slow = request(id)) {
      int pauses = slow.readInBursts(burst, IDLE.dividedBy(2));
      assertTrue(slow.complete(), "the slow client's body ends properly");
      assertTrue(pauses >= 4, pauses + " pauses");
      Exports.assertSameBytes(expected, slow.bytes(), "what the slow client got");
    }
    Api.awaitState(id, "COMPLETED");
  }

  /** A running export, psql's file of its table, and another export paused at 1,000 rows. */
  private record Two(byte[] expected, String id, String other) {}

  private static Two runningAndPaused(String name) {
    byte[] expected = Exports.labelledTable(name, 60000);
    Exports.labelledTable(name + "_other", 60000);
    String id = Exports.start(Map.of("table", name));
    String other = Exports.start(Map.of("table", name + "_other"));
    assertNotNull(Api.pauseAt(other, 1000), "the other paused before its end");
    return new Two(expected, id, other);
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

  /**
   * A followed download asked over a plain socket that buffers little ({@link SocketClient}), asked
   * again while the one place is still held (by a download of a test before, until its idle
   * timeout).
   */
  private SocketClient request(String id) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      SocketClient download = SocketClient.open(base, "/tasks/" + id + "/file?follow=true");
      int status = download.status();
      if (status == 200) {
        return download;
      }
      download.close();
      assertTrue(status == 503 && System.nanoTime() < deadline, "follow answered " + status);
      Thread.sleep(100);
    }
  }
}
