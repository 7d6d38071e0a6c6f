package dev.tsm.support;

import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A {@code POST /imports} over a plain socket whose body goes out piece by piece, framed as a
 * client may frame it: with a declared length, chunked ({@code Transfer-Encoding: chunked}), or as
 * the file part of a {@code multipart/form-data} body. The answer is read with a deadline, so a
 * request that never answers is a failure the caller can name rather than a test that hangs.
 */
public final class HttpUpload implements Closeable {
  /** How the body is framed. */
  public enum Framing {
    LENGTH,
    CHUNKED,
    MULTIPART
  }

  /** A response: status, headers (lower-case names) and body. */
  public record Answer(int status, Map<String, String> headers, String body) {
    public String contentType() {
      return headers.getOrDefault("content-type", "");
    }

    public JsonPath json() {
      return JsonPath.from(body);
    }
  }

  /** No answer came within the deadline. */
  public static final class NoAnswer extends IOException {
    NoAnswer(String message) {
      super(message);
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final Framing framing;
  private final byte[] closing;

  private HttpUpload(Socket socket, Framing framing, byte[] closing) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.framing = framing;
    this.closing = closing;
  }

  /** Sends the request head (and a multipart body's part head); {@code length} is the file's. */
  public static HttpUpload start(int port, String query, Framing framing, long length)
      throws IOException {
    Socket socket = new Socket("localhost", port);
    socket.setTcpNoDelay(true);
    String boundary = "----tsm-" + UUID.randomUUID().toString().replace("-", "");
    byte[] opening =
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] closing = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
    StringBuilder head =
        new StringBuilder("POST /imports?")
            .append(query)
            .append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")
            .append(Auth.headerLine());
    switch (framing) {
      case LENGTH ->
          head.append("Content-Type: text/csv\r\nContent-Length: ").append(length).append("\r\n");
      case CHUNKED -> head.append("Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n");
      case MULTIPART ->
          head.append("Content-Type: multipart/form-data; boundary=")
              .append(boundary)
              .append("\r\nContent-Length: ")
              .append(opening.length + length + closing.length)
              .append("\r\n");
    }
    head.append("\r\n");
    HttpUpload upload = new HttpUpload(socket, framing, closing);
    upload.out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
    if (framing == Framing.MULTIPART) {
      upload.out.write(opening);
    }
    upload.out.flush();
    return upload;
  }

  /** Sends {@code length} bytes of the file (one chunk, when chunked). */
  public void send(byte[] data, int offset, int length) throws IOException {
    if (length == 0) {
      return;
    }
    if (framing == Framing.CHUNKED) {
      out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(data, offset, length);
      out.write(new byte[] {'\r', '\n'});
    } else {
      out.write(data, offset, length);
    }
    out.flush();
  }

  /** Ends the body (the last chunk, the closing boundary) and reads the answer. */
  public Answer finish(long timeoutMillis) throws IOException {
    switch (framing) {
      case CHUNKED -> out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      case MULTIPART -> out.write(closing);
      default -> {}
    }
    out.flush();
    return answer(timeoutMillis);
  }

  /**
   * Reads the answer (the service may answer before the body ended, e.g. 413), waiting at most
   * {@code timeoutMillis} for all of it.
   */
  public Answer answer(long timeoutMillis) throws IOException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    while (true) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        throw new NoAnswer(noAnswer(timeoutMillis, raw));
      }
      socket.setSoTimeout((int) Math.max(1, left));
      int n;
      try {
        n = in.read(buf);
      } catch (SocketTimeoutException e) {
        throw new NoAnswer(noAnswer(timeoutMillis, raw));
      }
      if (n < 0) {
        break;
      }
      raw.write(buf, 0, n);
    }
    return parse(raw.toByteArray());
  }

  private static String noAnswer(long timeoutMillis, ByteArrayOutputStream raw) {
    return "no complete answer within "
        + timeoutMillis
        + " ms"
        + (raw.size() == 0 ? "" : " (got " + raw.toString(StandardCharsets.UTF_8) + ")");
  }

  private static Answer parse(byte[] raw) throws IOException {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    int headEnd = text.indexOf("\r\n\r\n");
    if (!text.startsWith("HTTP/1.1 ") || headEnd < 0) {
      throw new IOException("not an HTTP answer: '" + text + "'");
    }
    String[] lines = text.substring(0, headEnd).split("\r\n");
    int status = Integer.parseInt(lines[0].substring(9, 12));
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).trim());
    }
    byte[] body = java.util.Arrays.copyOfRange(raw, headEnd + 4, raw.length);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = dechunk(body);
    }
    return new Answer(status, headers, new String(body, StandardCharsets.UTF_8));
  }

  private static byte[] dechunk(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (i < body.length) {
      int lineEnd = i;
      while (lineEnd + 1 < body.length && !(body[lineEnd] == '\r' && body[lineEnd + 1] == '\n')) {
        lineEnd++;
      }
      String size = new String(body, i, lineEnd - i, StandardCharsets.US_ASCII).split(";")[0];
      int n = Integer.parseInt(size.trim(), 16);
      if (n == 0) {
        break;
      }
      out.write(body, lineEnd + 2, n);
      i = lineEnd + 2 + n + 2;
    }
    return out.toByteArray();
  }

  public boolean isClosed() {
    return socket.isClosed();
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
