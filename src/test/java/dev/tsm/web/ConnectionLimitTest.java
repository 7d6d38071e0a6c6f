package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.SocketClient;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code quarkus.http.limits.max-connections} from both sides: the connections an instance holds
 * are served; one past them is closed before any byte; a place comes back as one closes; the
 * management port is not counted.
 */
@QuarkusTest
@TestProfile(ConnectionLimitTest.TwelveConnections.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ConnectionLimitTest {
  private static final int MAX = 12;

  /** Room for twelve connections. */
  public static class TwelveConnections implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.http.limits.max-connections", String.valueOf(MAX));
    }
  }

  @TestHTTPResource("/")
  URL base;

  @Test
  void aConnectionPastTheLimitIsClosedAndAPlaceComesBackWhenOneCloses() throws Exception {
    List<SocketClient> held = new ArrayList<>();
    try {
      // Connections kept alive, each answered once, until one is refused (the test client's own
      // pooled connections may hold a few places already).
      SocketClient refused = null;
      while (refused == null && held.size() <= MAX) {
        SocketClient socket = connect();
        if (answered(socket)) {
          held.add(socket);
        } else {
          refused = socket;
        }
      }
      assertNotNull(refused, "a connection past " + MAX + " is refused");
      refused.close();
      assertTrue(held.size() <= MAX && held.size() >= MAX - 4, held.size() + " connections held");

      // Those held are still served, another is refused, and the management port answers.
      for (SocketClient socket : held) {
        assertTrue(answered(socket), "a held connection is still served");
      }
      try (SocketClient again = connect()) {
        assertFalse(answered(again), "still refused while every place is held");
      }
      assertEquals(200, Api.management().get("/q/health/live").statusCode());

      // One closed: its place comes back (the close is noticed on the server's event loop).
      held.remove(0).close();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      boolean served = false;
      while (!served && System.nanoTime() < deadline) {
        SocketClient socket = connect();
        served = answered(socket);
        if (served) {
          held.add(socket);
        } else {
          socket.close();
          Thread.sleep(50);
        }
      }
      assertTrue(served, "a place comes back when a connection closes");
    } finally {
      for (SocketClient socket : held) {
        socket.close();
      }
    }
  }

  private SocketClient connect() throws IOException {
    return SocketClient.connect(base);
  }

  /**
   * Asks for a task that does not exist over {@code connection}, kept alive: true when the 404 came
   * whole, false when the connection was closed before any byte of an answer.
   */
  private static boolean answered(SocketClient connection) throws IOException {
    if (!connection.ask("/tasks/00000000-0000-0000-0000-000000000000")) {
      return false;
    }
    assertEquals(404, connection.status());
    assertTrue(connection.readAll().complete(), "the whole body");
    return true;
  }
}
