package dev.tsm.web;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Cuts a streamed response whose client takes no bytes for a bound. A blocking write waits until
 * the client drains the connection, which a client that stops reading never does: without this,
 * only the HTTP idle timeout (30 minutes by default) would end the wait, holding a worker thread
 * and the response's place (a followed download's permit) that long.
 *
 * <p>Writes go out in slices no larger than the response's own buffer, each timed: a slow client
 * that keeps taking bytes is never cut, however long the whole body takes. A blocked write goes on
 * only once the kernel's send buffer has drained well down (Linux wakes a writer when half of it is
 * free), so progress is seen in steps: on this machine's loopback (a send buffer of up to 4 MiB), a
 * client that read 1 MiB between pauses did not wake the write, one that read for 100 ms (about 4
 * MiB) did. On a slow link the buffer grows only with the window, so the steps are smaller; a
 * client slower than half the buffer per bound is cut. One periodic task a response, on the
 * connection's event loop, checks the slice under way; the writer pays two volatile writes a slice.
 *
 * <p>A stored file sent whole ({@link #watchSentFile}) holds no thread: Vert.x hands it to the
 * kernel (sendfile) over HTTP/1.x and pipes it into the stream over HTTP/2. A client that reads
 * nothing still holds the connection, its place among {@code quarkus.http.limits.max-connections}
 * and the open file until the HTTP idle timeout (30 minutes), so those sends are watched too: over
 * HTTP/1.x by Netty's idle handler observing the socket's progress, over HTTP/2 by the stream's
 * bytes written (the connection's other streams may well move).
 *
 * <p>The cut is abrupt: Vert.x's own close of an HTTP/1.1 connection waits for the queued bytes to
 * go out, which they never do to a client that does not read, and would end the response as if
 * complete. The socket is closed with a reset instead (the kernel's buffer dropped with it); an
 * HTTP/2 stream is reset alone.
 */
final class StalledClient implements AutoCloseable {
  /**
   * The response's buffer ({@code quarkus.rest.output-buffer-size}): one wait for drain at most.
   */
  static final int SLICE = 64 * 1024;

  private final HttpServerRequest request;
  private final Channel channel;
  private final long boundNanos;
  private final ScheduledFuture<?> timer;

  /** When the slice under way started; 0 while none is. */
  private volatile long writingSince;

  private volatile boolean cut;

  private StalledClient(HttpServerRequest request, Duration bound) {
    this.request = request;
    this.channel = channel(request);
    this.boundNanos = bound.toNanos();
    long every = checkEvery(bound);
    // On a Netty event loop, not through Vert.x's timers: one set from the download's worker
    // thread would run on the request's ordered context, after the blocked write it is to end.
    this.timer =
        channel.eventLoop().scheduleAtFixedRate(this::check, every, every, TimeUnit.MILLISECONDS);
  }

  /** The request's connection's Netty channel (for HTTP/2, the connection's, shared by streams). */
  private static Channel channel(HttpServerRequest request) {
    // Every Vert.x server connection (HTTP/1.x and HTTP/2) is a ConnectionBase.
    return ((ConnectionBase) request.connection()).channel();
  }

  /** Milliseconds between checks: a few a bound, at most one a second. */
  private static long checkEvery(Duration bound) {
    return Math.max(10, Math.min(1000, bound.toMillis() / 4));
  }

  /** Watches the writes of the response to {@code request} until closed. */
  static StalledClient watch(HttpServerRequest request, Duration bound) {
    return new StalledClient(request, bound);
  }

  /** Writes {@code bytes} in timed slices; a failed write is the client's going ({@link Gone}). */
  void write(OutputStream out, byte[] bytes, int offset, int length) throws Gone {
    int at = offset;
    int end = offset + length;
    while (at < end) {
      int n = Math.min(SLICE, end - at);
      writingSince = System.nanoTime();
      try {
        out.write(bytes, at, n);
      } catch (IOException e) {
        throw gone(e);
      } finally {
        writingSince = 0;
      }
      at += n;
    }
  }

  /** Flushes, timed as a slice. */
  void flush(OutputStream out) throws Gone {
    writingSince = System.nanoTime();
    try {
      out.flush();
    } catch (IOException e) {
      throw gone(e);
    } finally {
      writingSince = 0;
    }
  }

  /**
   * The client is gone: it closed the connection, or took no bytes for the bound. Its own doing,
   * not a failure of the service.
   */
  static final class Gone extends IOException {
    Gone(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private Gone gone(IOException e) {
    return new Gone(
        cut
            ? "the client took no bytes for " + Duration.ofNanos(boundNanos)
            : "the client closed the connection (" + e.getMessage() + ")",
        e);
  }

  private void check() {
    long since = writingSince;
    if (since != 0 && System.nanoTime() - since > boundNanos && !cut) {
      cut = true;
      timer.cancel(false);
      abort(); // the blocked write sees the response closed and throws
    }
  }

  private void abort() {
    abort(request, channel);
  }

  private static void abort(HttpServerRequest request, Channel channel) {
    if (request.version() == HttpVersion.HTTP_2) {
      request.response().reset(); // this stream alone
      return;
    }
    channel.config().setOption(ChannelOption.SO_LINGER, 0);
    // From the pipeline's first handler, so the close goes straight to the socket: from the
    // channel, Vert.x's handler would turn it into its close after the queued bytes.
    channel.pipeline().firstContext().close();
  }

  /**
   * Cuts the whole-file response to {@code routing}'s request, once it is sent, if its client takes
   * no bytes for {@code bound}: it is cut between one and two bounds after its last byte taken. A
   * client that keeps taking bytes is never cut.
   */
  static void watchSentFile(RoutingContext routing, Duration bound) {
    HttpServerRequest request = routing.request();
    Channel channel = channel(request);
    if (request.version() == HttpVersion.HTTP_2) {
      StreamProgress progress = new StreamProgress(request, bound);
      ScheduledFuture<?> timer =
          channel
              .eventLoop()
              .scheduleAtFixedRate(progress, progress.every, progress.every, TimeUnit.MILLISECONDS);
      progress.timer = timer; // before its first run, 10 ms or more from now
      routing.addEndHandler(ended -> timer.cancel(false));
      return;
    }
    SocketProgress idle = new SocketProgress(request, bound);
    channel.pipeline().addFirst(idle);
    // Kept-alive, the connection goes on to other requests, which this bound is not for.
    routing.addEndHandler(
        ended ->
            channel
                .eventLoop()
                .execute(
                    () -> {
                      if (channel.pipeline().context(idle) != null) {
                        channel.pipeline().remove(idle);
                      }
                    }));
  }

  /**
   * Netty's writer-idle check observing the socket's output: an event comes each bound in which no
   * write completed, and after the first, only if the bytes sent did not move in it (a file sent by
   * sendfile is one write that completes at its end). The first is no evidence, so it is skipped;
   * none is passed on, or Vert.x would close the connection after its queued bytes.
   */
  private static final class SocketProgress extends IdleStateHandler {
    private final HttpServerRequest request;

    SocketProgress(HttpServerRequest request, Duration bound) {
      super(true, 0, bound.toMillis(), 0, TimeUnit.MILLISECONDS);
      this.request = request;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
      if (!event.isFirst()) {
        abort(request, ctx.channel());
      }
    }
  }

  /** An HTTP/2 stream's bytes written, checked a few times a bound; reset when still a bound. */
  private static final class StreamProgress implements Runnable {
    private final HttpServerRequest request;
    private final long boundNanos;
    private final long every;
    private volatile ScheduledFuture<?> timer;
    private long written = -1;
    private long movedAt = System.nanoTime();

    StreamProgress(HttpServerRequest request, Duration bound) {
      this.request = request;
      this.boundNanos = bound.toNanos();
      this.every = checkEvery(bound);
    }

    @Override
    public void run() {
      HttpServerResponse response = request.response();
      if (response.ended() || response.closed()) {
        // Ended: its last bytes are queued in the stream, within the stream's flow-control window.
        timer.cancel(false);
        return;
      }
      long now = System.nanoTime();
      long bytes = response.bytesWritten();
      if (bytes != written) {
        written = bytes;
        movedAt = now;
      } else if (now - movedAt > boundNanos) {
        timer.cancel(false);
        response.reset();
      }
    }
  }

  @Override
  public void close() {
    timer.cancel(false);
  }
}
