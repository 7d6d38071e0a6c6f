package dev.tsm.upload;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * A request body read by a worker thread as a stream, while the event loop receives it: at most
 * {@link #HIGH} bytes wait in between (the request is paused above it), and a client that sends
 * nothing for the idle timeout ends the stream with an {@link IOException}.
 */
public final class BlockingBody extends InputStream {
  static final int HIGH = 4 << 20;
  private static final int LOW = 1 << 20;

  private final HttpServerRequest request;
  private final Context context;
  private final long idleNanos;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private Buffer head;
  private int headPos;
  private long queued;
  private long received;
  private boolean ended;
  private boolean paused;
  private IOException failure;

  private BlockingBody(HttpServerRequest request, Context context, Duration idle) {
    this.request = request;
    this.context = context;
    this.idleNanos = idle.toNanos();
  }

  /**
   * Starts reading the body of {@code request} (paused until now) on its own {@code context}. Call
   * from any thread; the stream is then read by one worker thread.
   */
  public static BlockingBody open(HttpServerRequest request, Context context, Duration idle) {
    BlockingBody body = new BlockingBody(request, context, idle);
    context.runOnContext(
        v -> {
          if (request.isEnded()) {
            body.end();
            return;
          }
          request.handler(body::chunk);
          request.endHandler(e -> body.end());
          request.exceptionHandler(
              e -> body.fail(new IOException("the upload broke off: " + e.getMessage(), e)));
          request
              .connection()
              .closeHandler(
                  e -> body.fail(new IOException("the connection closed before the body ended")));
          request.resume();
        });
    return body;
  }

  private synchronized void chunk(Buffer buffer) {
    queue.add(buffer);
    queued += buffer.length();
    received += buffer.length();
    if (queued > HIGH && !paused) {
      paused = true;
      request.pause();
    }
    notifyAll();
  }

  private synchronized void end() {
    ended = true;
    notifyAll();
  }

  private synchronized void fail(IOException e) {
    if (!ended && failure == null) {
      failure = e;
      notifyAll();
    }
  }

  /** Bytes the client sent so far. */
  public synchronized long received() {
    return received;
  }

  /** Whether the whole body arrived (all of it may not have been read yet). */
  public synchronized boolean ended() {
    return ended;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public synchronized int read(byte[] into, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    long deadline = System.nanoTime() + idleNanos;
    while (head == null) {
      head = queue.poll();
      headPos = 0;
      if (head != null) {
        break;
      }
      if (ended) {
        return -1;
      }
      if (failure != null) {
        throw failure;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IdleException(idleNanos / 1_000_000_000.0);
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while reading the body");
      }
    }
    int n = Math.min(length, head.length() - headPos);
    head.getBytes(headPos, headPos + n, into, offset);
    headPos += n;
    queued -= n;
    if (headPos == head.length()) {
      head = null;
    }
    if (paused && queued < LOW) {
      paused = false;
      context.runOnContext(v -> request.resume());
    }
    return n;
  }

  /** The client sent nothing for the idle timeout. */
  public static final class IdleException extends IOException {
    IdleException(double seconds) {
      super("the client sent nothing for " + seconds + " s (tsm.import.idle-timeout)");
    }
  }
}
