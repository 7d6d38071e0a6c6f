package dev.tsm.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of the service that cuts connections as a flaky network does: each of the
 * first {@code cuts} connections is closed, both ways, once the client has sent a random number of
 * bytes through it (drawn from a seed, up to {@code maxBytes}); later ones pass whole.
 */
public final class CuttingProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final Random random;
  private final int maxBytes;
  private final AtomicInteger cutsLeft;
  private final AtomicInteger cutsMade = new AtomicInteger();
  private final AtomicLong forwarded = new AtomicLong();

  public CuttingProxy(int target, long seed, int cuts, int maxBytes) {
    this.target = target;
    this.random = new Random(seed);
    this.maxBytes = maxBytes;
    this.cutsLeft = new AtomicInteger(cuts);
    try {
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread accepting = new Thread(this::accept, "cutting-proxy");
    accepting.setDaemon(true);
    accepting.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Connections cut so far. */
  public int cuts() {
    return cutsMade.get();
  }

  /** Client bytes that reached the service. */
  public long forwarded() {
    return forwarded.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket service = new Socket(InetAddress.getLoopbackAddress(), target);
        long budget;
        synchronized (random) {
          budget = cutsLeft.getAndDecrement() > 0 ? 1 + random.nextInt(maxBytes) : Long.MAX_VALUE;
        }
        pipe(client, service, budget, true);
        pipe(service, client, Long.MAX_VALUE, false);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pipe(Socket from, Socket to, long budget, boolean count) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[8192];
              long left = budget;
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                  out.write(buf, 0, n);
                  out.flush();
                  if (count) {
                    forwarded.addAndGet(n);
                  }
                  left -= n;
                  if (left == 0) {
                    cutsMade.incrementAndGet();
                    break;
                  }
                }
              } catch (IOException ignored) {
                // the other side closed
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "cutting-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
