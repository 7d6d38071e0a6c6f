package dev.tsm.support;

import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A {@code POST /imports} (or any request with a body) over a plain socket whose body the test
 * sends piece by piece, as a slow client would, cuts off mid-way, as a client that goes away would,
 * or never sends, as a silent one would.
 */
public final class SlowUpload implements Closeable {
  private final Socket socket;
  private final OutputStream out;
  private final byte[] body;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private int sent;

  private SlowUpload(int port, String head, byte[] body) throws IOException {
    this.body = body;
    this.socket = new Socket("localhost", port);
    this.out = socket.getOutputStream();
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Sends the request head, declaring the whole body's length, and none of the body yet. */
  public static SlowUpload start(String query, byte[] body) {
    return start(RestAssured.port, query, body);
  }

  /** The same, to the service on {@code port}. */
  public static SlowUpload start(int port, String query, byte[] body) {
    return start(port, query, "", body);
  }

  /** The same, with more header lines ({@code "Name: value\r\n"} each). */
  public static SlowUpload start(int port, String query, String headers, byte[] body) {
    return open(
        port,
        "POST /imports?"
            + query
            + " HTTP/1.1\r\nHost: localhost\r\n"
            + Auth.headerLine()
            + headers
            + "Content-Type: text/csv\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n",
        body);
  }

  /**
   * A {@code POST} to {@code target} (path and query) of a body of this type, on a connection the
   * client would keep open for more requests: whatever closes it is the service's doing.
   */
  public static SlowUpload post(String target, String contentType, byte[] body) {
    return open(
        RestAssured.port,
        "POST "
            + target
            + " HTTP/1.1\r\nHost: localhost\r\n"
            + Auth.headerLine()
            + "Content-Type: "
            + contentType
            + "\r\nContent-Length: "
            + body.length
            + "\r\n\r\n",
        body);
  }

  /** Sends {@code head} (request line and headers, up to the blank line) and none of the body. */
  public static SlowUpload open(int port, String head, byte[] body) {
    try {
      return new SlowUpload(port, head, body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends the next {@code bytes} bytes of the body. */
  public SlowUpload send(int bytes) {
    int n = Math.min(bytes, body.length - sent);
    try {
      out.write(body, sent, n);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    sent += n;
    return this;
  }

  public int sent() {
    return sent;
  }

  /** Sends the rest of the body and reads the whole response: its status line, headers and body. */
  public String finish() {
    send(body.length - sent);
    try (InputStream in = socket.getInputStream()) {
      ByteArrayOutputStream response = new ByteArrayOutputStream();
      in.transferTo(response);
      return response.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads the response up to the end of the connection, which the service must close within {@code
   * atMost}; the client sends nothing more meanwhile.
   */
  public RawResponse response(Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    ByteArrayOutputStream response = received;
    byte[] buf = new byte[8192];
    try {
      InputStream in = socket.getInputStream();
      while (true) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new SocketTimeoutException();
        }
        socket.setSoTimeout((int) left);
        int n = in.read(buf);
        if (n < 0) {
          return RawResponse.parse(response.toString(StandardCharsets.UTF_8));
        }
        response.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError(
          "the connection was still open after "
              + atMost
              + "; read so far: '"
              + response.toString(StandardCharsets.UTF_8)
              + "'");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads what the service sends up to the next blank line (an interim or final response head),
   * which must come within {@code atMost}; {@link #response} still returns the whole response.
   */
  public String head(Duration atMost) {
    StringBuilder head = new StringBuilder();
    try {
      socket.setSoTimeout((int) atMost.toMillis());
      InputStream in = socket.getInputStream();
      while (head.indexOf("\r\n\r\n") < 0) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        head.append((char) b);
        received.write(b);
      }
      return head.toString();
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no answer within " + atMost + "; read so far: '" + head + "'");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Drops the connection with a reset, the body unfinished. */
  public void cutOff() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
