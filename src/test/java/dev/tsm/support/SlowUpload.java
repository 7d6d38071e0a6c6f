package dev.tsm.support;

import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A {@code POST /imports} over a plain socket whose body the test sends piece by piece, as a slow
 * client would, or cuts off mid-way, as a client that goes away would.
 */
public final class SlowUpload implements Closeable {
  private final Socket socket;
  private final OutputStream out;
  private final byte[] body;
  private int sent;

  private SlowUpload(int port, String query, byte[] body) throws IOException {
    this.body = body;
    this.socket = new Socket("localhost", port);
    this.out = socket.getOutputStream();
    String head =
        "POST /imports?"
            + query
            + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Sends the request head, declaring the whole body's length, and none of the body yet. */
  public static SlowUpload start(String query, byte[] body) {
    return start(RestAssured.port, query, body);
  }

  /** The same, to the service on {@code port}. */
  public static SlowUpload start(int port, String query, byte[] body) {
    try {
      return new SlowUpload(port, query, body);
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
