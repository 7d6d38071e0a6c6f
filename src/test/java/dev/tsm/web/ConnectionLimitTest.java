package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
    List<Socket> held = new ArrayList<>();
    try {
      // Connections kept alive, each answered once, until one is refused (the test client's own
      // pooled connections may hold a few places already).
      Socket refused = null;
      while (refused == null && held.size() <= MAX) {
        Socket socket = connect();
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
      for (Socket socket : held) {
        assertTrue(answered(socket), "a held connection is still served");
      }
      try (Socket again = connect()) {
        assertFalse(answered(again), "still refused while every place is held");
      }
      assertEquals(200, Api.management().get("/q/health/live").statusCode());

      // One closed: its place comes back (the close is noticed on the server's event loop).
      held.remove(0).close();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      boolean served = false;
      while (!served && System.nanoTime() < deadline) {
        Socket socket = connect();
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
      for (Socket socket : held) {
        socket.close();
      }
    }
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.setSoTimeout(10_000);
    socket.connect(new InetSocketAddress(base.getHost(), base.getPort()));
    return socket;
  }

  /**
   * Asks for a task that does not exist over {@code socket}, kept alive: true when the 404 came
   * whole, false when the connection was closed before any byte of an answer.
   */
  private static boolean answered(Socket socket) throws IOException {
    byte[] ask =
        ("GET /tasks/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: localhost\r\n"
                + Auth.headerLine()
                + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    InputStream in;
    try {
      OutputStream out = socket.getOutputStream();
      out.write(ask);
      out.flush();
      in = socket.getInputStream();
      int first = in.read();
      if (first < 0) {
        return false;
      }
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      head.write(first);
      while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new AssertionError("the answer's head ended early: " + head);
        }
        head.write(b);
      }
      String text = head.toString(StandardCharsets.US_ASCII);
      assertTrue(text.startsWith("HTTP/1.1 404 "), text);
      String length =
          text.lines()
              .filter(line -> line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no Content-Length: " + text));
      int remaining = Integer.parseInt(length.substring(length.indexOf(':') + 1).trim());
      assertEquals(remaining, in.readNBytes(remaining).length, "the whole body");
      return true;
    } catch (java.net.SocketException e) {
      return false; // reset before an answer
    }
  }
}
