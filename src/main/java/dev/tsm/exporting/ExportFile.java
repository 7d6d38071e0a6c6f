package dev.tsm.exporting;

import dev.tsm.csv.FileStore;
import dev.tsm.db.DatabaseException;
import dev.tsm.task.RunStop;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * The {@code .part} file of one export run, held by that run alone: a transaction of the run's own
 * holds an advisory lock on the task for as long as the file is open (a killed instance's lock goes
 * with its connection). A run taking the task over waits for that lock before it opens the file, so
 * two runs never write it at once, and pages can be appended and synced ahead of their checkpoints:
 * only the checkpoint's commit has to wait for the page before it. Bytes past the checkpoint are
 * cut off when the file is next opened.
 */
final class ExportFile implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ExportFile.class);

  /** A page is appended in pieces this large, each after a look at the run's stop. */
  private static final long APPEND_PIECE = 1 << 20;

  /** PostgreSQL's SQLSTATE when {@code lock_timeout} ran out. */
  private static final String LOCK_NOT_AVAILABLE = "55P03";

  private final Connection lock;
  private final FileChannel out;
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final Object checkpoints = new Object();
  private long committedEnd; // guarded by checkpoints
  private boolean closing; // guarded by checkpoints

  private ExportFile(Connection lock, FileChannel out, long committedEnd) {
    this.lock = lock;
    this.out = out;
    this.committedEnd = committedEnd;
  }

  /**
   * Takes the task's file lock (waiting at most {@code lockWait} for a run that still holds it),
   * then opens the file cut back to the checkpoint's {@code length}.
   */
  static ExportFile open(
      DataSource dataSource, FileStore files, UUID taskId, long length, Duration lockWait) {
    Connection c = null;
    try {
      c = dataSource.getConnection();
      c.setAutoCommit(false);
      // One round trip for the three (pgjdbc sends them with one Sync): a resume waits for
      // each, and while an export keeps the cores busy a round trip takes 5 to 30 ms.
      try (Statement s = c.createStatement()) {
        s.execute(
            "SET LOCAL lock_timeout = "
                + lockWait.toMillis()
                + "; SELECT pg_advisory_xact_lock("
                + lockKey(taskId)
                + "); SET LOCAL lock_timeout = 0");
      }
      files.deleteExportSegments(taskId);
      return new ExportFile(c, files.openExport(taskId, length), length);
    } catch (SQLException e) {
      closeQuietly(c);
      if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
        throw new DatabaseException(e);
      }
      throw new IllegalStateException(
          "the export's file is still held by another run of it (waited "
              + lockWait.toSeconds()
              + " s): "
              + e.getMessage(),
          e);
    } catch (IOException e) {
      closeQuietly(c);
      throw new UncheckedIOException("cannot open the export file: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /**
   * Appends {@code pageFile} at {@code offset}, which must be the file's end (the pages before it
   * appended); gives up between pieces once the run is stopped. Returns the file's new end. Not
   * synced: see {@link #sync}.
   */
  long append(Path pageFile, long offset, RunStop stop) {
    try (FileChannel in = FileChannel.open(pageFile, StandardOpenOption.READ)) {
      return append(in, offset, stop);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
    }
  }

  /** {@link #append(Path, long, RunStop)} of what an open page file holds. */
  long append(FileChannel pageFile, long offset, RunStop stop) {
    try {
      long length = pageFile.size();
      // Under the file's lock: a stopped run closes the file only between two appends.
      synchronized (out) {
        expectEnd(offset);
        for (long sent = 0; sent < length; ) {
          stop.check();
          sent += pageFile.transferTo(sent, Math.min(APPEND_PIECE, length - sent), out);
        }
        return out.position();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code bytes} at {@code offset}, which must be the file's end: a page that writes
   * straight into the file ({@link PageSink}). Returns the file's new end.
   */
  long write(ByteBuffer bytes, long offset, RunStop stop) {
    try {
      synchronized (out) {
        expectEnd(offset);
        stop.check();
        while (bytes.hasRemaining()) {
          out.write(bytes);
        }
        return out.position();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
    }
  }

  private void expectEnd(long offset) throws IOException {
    if (!out.isOpen()) {
      throw new IllegalStateException("the run was stopped before this page was written");
    }
    if (out.position() != offset) {
      throw new IllegalStateException(
          "the export file is " + out.position() + " bytes long, expected " + offset);
    }
  }

  /**
   * Makes every byte appended so far durable, so a checkpoint may claim them. Outside the file's
   * lock: the next page is appended meanwhile.
   */
  void sync() {
    try {
      out.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot sync the export file: " + e.getMessage(), e);
    }
  }

  /**
   * Commits {@code checkpoint}, which claims the file up to {@code end}, unless the file is being
   * closed: a close never cuts bytes a checkpoint claims, nor does a checkpoint claim bytes cut.
   */
  <T> T checkpoint(long end, Supplier<T> checkpoint) {
    synchronized (checkpoints) {
      if (closing) {
        throw new RunStop.Stopped(null); // the run ended: its file is being closed
      }
      T committed = checkpoint.get();
      committedEnd = end;
      return committed;
    }
  }

  /**
   * Cuts the pages appended ahead of their checkpoints (a stopped run's file is its checkpoint's
   * length), closes the file once no page is being appended, then lets the lock go. On a worker: a
   * stopped run is cancelled from an event loop, which must not wait for an append.
   */
  @Override
  public void close() {
    Infrastructure.getDefaultWorkerPool()
        .execute(
            () -> {
              synchronized (out) {
                synchronized (checkpoints) {
                  closing = true;
                  try {
                    if (out.isOpen() && out.size() > committedEnd) {
                      out.truncate(committedEnd);
                    }
                  } catch (IOException e) {
                    LOG.debugf("could not cut the export file back: %s", e.getMessage());
                  }
                  try {
                    out.close();
                  } catch (IOException ignored) {
                    // Every byte that counts was synced before its checkpoint.
                  }
                }
              }
              closeQuietly(lock);
              closed.complete(null);
            });
  }

  /** Completes once {@link #close} has closed the file and let the lock go. */
  CompletableFuture<Void> closed() {
    return closed;
  }

  /** The advisory lock's key: the task id folded to 64 bits. */
  static long lockKey(UUID taskId) {
    return taskId.getMostSignificantBits() ^ taskId.getLeastSignificantBits();
  }

  /** Rolls back (the lock goes with the transaction) and gives the connection back. */
  private static void closeQuietly(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.rollback();
    } catch (SQLException e) {
      LOG.debugf("could not roll back an export's file lock: %s", e.getMessage());
    }
    try {
      c.close();
    } catch (SQLException e) {
      LOG.debugf("could not close an export's file lock: %s", e.getMessage());
    }
  }
}
