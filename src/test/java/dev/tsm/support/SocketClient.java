package dev.tsm.support;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * GET requests as Alice over one plain socket, kept alive, that buffers little (a 4 KB receive
 * buffer), so what the client does not read stays in the service's socket, then in its response. A
 * connection closed before any byte of an answer is told apart from an answer; the body is read a
 * piece at a time, chunked or of a Content-Length, and a body cut short (the connection ended or
 * reset before its end) is told apart from a complete one.
 */
public final class SocketClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private ByteArrayOutputStream got;
  private int status;
  private boolean chunked;
  private long left;
  private boolean complete;
  private boolean cut;

  private SocketClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** A connection to {@code base}, nothing asked yet. */
  public static SocketClient connect(URL base) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.setSoTimeout(60_000);
    socket.connect(new InetSocketAddress(base.getHost(), base.getPort()));
    return new SocketClient(socket);
  }

  /** Connects to {@code base} and asks for {@code path}; the response's head is read. */
  public static SocketClient open(URL base, String path) throws IOException {
    SocketClient client = connect(base);
    client.ask(path);
    return client;
  }

  /**
   * Asks for {@code path} on this connection (the body before read to its end); the head is read.
   * Returns false if the connection was closed or reset instead of answered.
   */
  public boolean ask(String path) throws IOException {
    got = new ByteArrayOutputStream();
    complete = false;
    cut = false;
    out.write(
        ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + Auth.headerLine() + "\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    try {
      String line = line();
      status = Integer.parseInt(line.substring(9, 12));
      long length = 0;
      chunked = false;
      for (String header = line(); !header.isEmpty(); header = line()) {
        String h = header.toLowerCase(Locale.ROOT);
        if (h.startsWith("content-length:")) {
          length = Long.parseLong(h.substring(15).trim());
        } else if (h.startsWith("transfer-encoding:") && h.contains("chunked")) {
          chunked = true;
        }
      }
      left = chunked ? 0 : length;
      complete = !chunked && length == 0;
      return true;
    } catch (EOFException | SocketException e) {
      cut = true;
      return false;
    }
  }

  public int status() {
    return status;
  }

  /**
   * Reads on up to {@code limit} more bytes of the body, or to its end, or to the connection's end
   * or reset.
   */
  public SocketClient read(long limit) throws IOException {
    long until = got.size() + limit;
    try {
      while (!complete && got.size() < until) {
        if (chunked && left == 0) {
          String size = line();
          if (size.isEmpty()) {
            size = line(); // the CRLF after the previous chunk's data
          }
          left = Long.parseLong(size.split(";")[0].trim(), 16);
          complete = left == 0;
          if (complete) {
            line(); // the CRLF that ends a body without trailers
          }
          continue;
        }
        byte[] buffer = new byte[(int) Math.min(8192, Math.min(left, until - got.size()))];
        int n = in.read(buffer);
        if (n < 0) {
          throw new EOFException();
        }
        got.write(buffer, 0, n);
        left -= n;
        complete = !chunked && left == 0;
      }
    } catch (EOFException | SocketException e) {
      cut = true;
    }
    return this;
  }

  public SocketClient readAll() throws IOException {
    while (open()) {
      read(Long.MAX_VALUE);
    }
    return this;
  }

  /**
   * Reads the body in bursts of {@code burst} bytes with {@code pause} between them, to its end or
   * its cut; returns the number of pauses.
   */
  public int readInBursts(long burst, java.time.Duration pause)
      throws IOException, InterruptedException {
    int pauses = 0;
    while (read(burst).open()) {
      Thread.sleep(pause.toMillis());
      pauses++;
    }
    return pauses;
  }

  /** Neither ended nor cut. */
  public boolean open() {
    return !complete && !cut;
  }

  /** The body came to its end. */
  public boolean complete() {
    return complete;
  }

  public byte[] bytes() {
    return got.toByteArray();
  }

  /** The most a TCP socket's send buffer grows to here ({@code net.ipv4.tcp_wmem}'s maximum). */
  public static long sendBufferMax() throws IOException {
    // readAllLines: a whole-file read of /proc stops at the size the file claims.
    String[] wmem =
        java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_wmem"))
            .get(0)
            .trim()
            .split("\\s+");
    return Long.parseLong(wmem[2]);
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

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
