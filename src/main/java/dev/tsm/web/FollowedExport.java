package dev.tsm.web;

import dev.tsm.access.Caller;
import dev.tsm.csv.FileStore;
import dev.tsm.task.Task;
import dev.tsm.task.TaskEvents;
import dev.tsm.task.TaskService;
import dev.tsm.task.TaskState;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The file of an export that is still running, sent as its pages commit: only bytes a committed
 * checkpoint covers (synced, never cut back by a resume), so the body is the final file's start at
 * every moment and, once the export completes, the final file exactly. The client downloads while
 * the export runs instead of after it. A terminated or failed export, or one that makes no progress
 * for the idle timeout, cuts the connection: a chunked body without its end, which every HTTP
 * client reports as incomplete.
 *
 * <p>It reads the task again when the task changes (each checkpoint's commit is announced to every
 * replica, {@link TaskEvents#watch}), and every {@link #READ_AGAIN_MILLIS} whatever it heard: a
 * page goes out as soon as its commit is announced, and the end as soon as {@code COMPLETED} is,
 * with no read of the task in between (it read it every 20 ms before: up to 20 ms late at the end,
 * 50 reads a second a download while the export kept both cores busy).
 *
 * <p>Two bounds end the download and give its place back: no page for {@code idleTimeout}, or a
 * client that takes no bytes for {@code clientIdleTimeout} ({@link StalledClient}).
 *
 * @param followers the bound on such downloads: one permit taken by the caller, given back here
 *     when the body ends
 */
record FollowedExport(
    TaskService tasks,
    TaskEvents events,
    FileStore files,
    Caller caller,
    UUID id,
    Duration idleTimeout,
    Duration clientIdleTimeout,
    Semaphore followers,
    HttpServerRequest request)
    implements StreamingOutput {
  /** The read without a notice: how late a download can be while notices are lost. */
  private static final long READ_AGAIN_MILLIS = 250;

  private static final int CHUNK = 1 << 20;

  /**
   * The download ends short because the export did (terminated, failed, stuck): an outcome its
   * client is told of by the cut, not a failure of the service (see {@link
   * ProblemMapper#cutShort}); or because its client went away or stopped taking bytes.
   */
  static final class CutShort extends IOException {
    CutShort(String message) {
      super(message);
    }
  }

  @Override
  public void write(OutputStream out) throws IOException {
    FileChannel file = null;
    Semaphore changed = new Semaphore(0);
    // A notice is a permit; the read after a wake drains them all (awaitChange).
    Runnable unwatch = events.watch(id, changed::release);
    StalledClient client = StalledClient.watch(request, clientIdleTimeout);
    try {
      long sent = 0;
      long progressAt = System.nanoTime();
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      while (true) {
        Task task = tasks.get(caller, id).await().atMost(Duration.ofSeconds(30));
        boolean complete = task.state() == TaskState.COMPLETED;
        if (file == null && (complete || task.checkpoint().bytesDone() > 0)) {
          file = open();
        }
        long ready = complete ? file.size() : task.checkpoint().bytesDone();
        if (ready > sent) {
          sent = copy(file, sent, ready, buffer, out, client);
          client.flush(out);
          progressAt = System.nanoTime();
          continue;
        }
        if (complete) {
          return;
        }
        if (task.state().isFinal() || task.state() == TaskState.FAILED) {
          throw new CutShort(
              "export " + id + " ended " + task.state() + " before its file was complete");
        }
        if (System.nanoTime() - progressAt > idleTimeout.toNanos()) {
          throw new CutShort(
              "export " + id + " made no progress for " + idleTimeout + " (" + task.state() + ")");
        }
        awaitChange(changed);
      }
    } catch (StalledClient.Gone e) {
      throw new CutShort("the download of export " + id + " ended: " + e.getMessage());
    } finally {
      client.close();
      unwatch.run();
      followers.release();
      if (file != null) {
        file.close();
      }
    }
  }

  /**
   * The partial file, or the finished one if it was published meanwhile (a rename: an open channel
   * keeps reading the same file across it).
   */
  private FileChannel open() throws IOException {
    try {
      return FileChannel.open(files.exportPart(id), StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      return FileChannel.open(files.exportFile(id), StandardOpenOption.READ);
    }
  }

  private static long copy(
      FileChannel file,
      long from,
      long to,
      ByteBuffer buffer,
      OutputStream out,
      StalledClient client)
      throws IOException {
    long at = from;
    while (at < to) {
      buffer.clear().limit((int) Math.min(buffer.capacity(), to - at));
      int n = file.read(buffer, at);
      if (n < 0) {
        throw new IOException("the export file is shorter than its checkpoint");
      }
      client.write(out, buffer.array(), 0, n);
      at += n;
    }
    return at;
  }

  private static void awaitChange(Semaphore changed) throws InterruptedIOException {
    try {
      changed.tryAcquire(READ_AGAIN_MILLIS, TimeUnit.MILLISECONDS);
      changed.drainPermits(); // the read that follows sees every change so far
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while following an export");
    }
  }
}
