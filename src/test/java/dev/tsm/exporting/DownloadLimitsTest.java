package dev.tsm.exporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Exports;
import dev.tsm.support.Http2Client;
import dev.tsm.support.SocketClient;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.StreamResetException;
import java.net.URL;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tsm.export.download-idle-timeout} on the download of a completed file, which the service
 * hands to the kernel whole and no thread of it waits on: a client that takes no bytes for the
 * bound is cut (its connection over HTTP/1.1, its stream alone over HTTP/2), one that pauses for
 * less than the bound gets the whole file, and a kept-alive connection is not held to the bound
 * once its file is sent. Every body is compared with {@code psql \copy}'s file.
 */
@QuarkusTest
@TestProfile(DownloadLimitsTest.TwoSeconds.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class DownloadLimitsTest {
  private static final Duration IDLE = Duration.ofSeconds(2);

  /** Two seconds without a byte taken cut a download. */
  public static class TwoSeconds implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tsm.export.download-idle-timeout", IDLE.toString());
    }
  }

  @TestHTTPResource("/")
  URL base;

  /** A completed export of {@code rows} rows; psql's file of its table. */
  private record Completed(String id, byte[] expected) {
    String path() {
      return "/tasks/" + id + "/file";
    }
  }

  private static Completed completed(String name, int rows) {
    byte[] expected = Exports.labelledTable(name, rows);
    String id = Exports.start(Map.of("table", name));
    Api.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
    return new Completed(id, expected);
  }

  @Test
  void aClientThatTakesNoBytesOfACompletedFileIsCut() throws Exception {
    Completed file = completed("dl_silent", 60000); // 18 MB: far more than the sockets hold
    try (SocketClient silent = SocketClient.open(base, file.path())) {
      assertEquals(200, silent.status());
      // Cut between one and two bounds after the sockets filled: read nothing for three.
      Thread.sleep(3 * IDLE.toMillis());
      silent.readAll();
      assertFalse(silent.complete(), "the silent client's body is cut before its end");
      byte[] bytes = silent.bytes();
      assertTrue(bytes.length < file.expected().length, bytes.length + " bytes");
      Exports.assertSameBytes(
          Arrays.copyOf(file.expected(), bytes.length), bytes, "what the silent client got");
    }
    // The service goes on serving, the file unchanged.
    Exports.assertSameBytes(file.expected(), Exports.download(file.id()), "export " + file.id());
  }

  @Test
  void aClientThatPausesForLessThanTheBoundGetsTheWholeFile() throws Exception {
    // Each burst reads more than the kernel can hold for it (the send buffer's maximum and the
    // receive buffer), so the service's send has gone on during it; then the client stops for half
    // the bound. Five bursts' worth of file: at least four stops.
    long burst = SocketClient.sendBufferMax() + (2 << 20);
    Completed file = completed("dl_slow", (int) (5 * burst / 285));
    try (SocketClient slow = SocketClient.open(base, file.path())) {
      assertEquals(200, slow.status());
      int pauses = slow.readInBursts(burst, IDLE.dividedBy(2));
      assertTrue(slow.complete(), "the slow client's body ends properly");
      assertTrue(pauses >= 4, pauses + " pauses");
      Exports.assertSameBytes(file.expected(), slow.bytes(), "what the slow client got");
    }
  }

  @Test
  void aKeptAliveConnectionIsNotHeldToTheBoundOnceItsFileIsSent() throws Exception {
    Completed file = completed("dl_kept", 2000);
    try (SocketClient client = SocketClient.open(base, file.path())) {
      assertEquals(200, client.status());
      Exports.assertSameBytes(file.expected(), client.readAll().bytes(), "the first download");
      // Idle between requests for longer than any cut of a download would take.
      Thread.sleep(3 * IDLE.toMillis());
      assertTrue(client.ask(file.path()), "the kept-alive connection answers again");
      assertEquals(200, client.status());
      Exports.assertSameBytes(file.expected(), client.readAll().bytes(), "the second download");
    }
  }

  @Test
  void anHttp2ClientThatTakesNoBytesHasItsStreamResetNotItsConnection() throws Exception {
    Completed file = completed("dl_h2", 60000);
    try (Http2Client client = new Http2Client(base)) {
      Http2Client.Stalled stalled = client.stall(file.path());
      assertEquals(HttpVersion.HTTP_2, stalled.response().version());
      assertEquals(200, stalled.response().statusCode());
      long asked = System.nanoTime();

      Throwable cut = stalled.ended().get(30, TimeUnit.SECONDS);
      assertTrue(cut instanceof StreamResetException, "the stream is reset: " + cut);
      assertTrue(
          System.nanoTime() - asked >= IDLE.toNanos() - TimeUnit.MILLISECONDS.toNanos(100),
          "not before the bound");

      // The same connection still serves: the task, then the whole file.
      HttpClientResponse next = client.get("/tasks/" + file.id()).response();
      assertEquals(200, next.statusCode());
      HttpConnection connection = stalled.response().request().connection();
      assertSame(connection, next.request().connection(), "one connection throughout");
      Exports.assertSameBytes(
          file.expected(), client.get(file.path()).body(), "the file over HTTP/2");
    }
  }
}
