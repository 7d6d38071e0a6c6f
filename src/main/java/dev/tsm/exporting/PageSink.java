package dev.tsm.exporting;

import dev.tsm.task.RunStop;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/**
 * Where one page's bytes go: its page file while the pages before it are still being appended; once
 * they are, what the page file holds is appended and the rest goes straight to the export's file.
 * The page at the head of the order so writes its bytes once instead of twice (into its page file,
 * then again in the append): each write into the page cache is a copy into memory not yet in the
 * cache, the largest cost of an export in the kernel. Nothing else writes the export's file
 * meanwhile: the page after this one appends only once this one says where it ended.
 *
 * <p>Nothing it throws reaches the COPY reading into it: once a write fails (the run stopped, the
 * disk full) it keeps the failure, drops what comes after, and the page's owner throws it when the
 * COPY has returned ({@link #failure}). pgjdbc answers an exception from the stream it copies into
 * by cancelling the COPY itself, and a connection that went through that came back to the pool out
 * of step with its server: the next statement on it read another one's answer (seen in a pause
 * bench as "No results were returned by the query" and a NoSuchElementException in a rollback). A
 * stopped run's COPY is cancelled from outside ({@link RunStop}) and ends with the server's error.
 */
final class PageSink extends OutputStream {
  private final FileChannel pageFile;
  private final CompletableFuture<Long> before;
  private final ExportFile file;
  private final RunStop stop;
  private long end = -1; // the export file's end once this page writes there
  private RuntimeException failure; // the first write that failed; nothing is written after it

  /**
   * @param before the export file's end once the pages before this one are appended
   */
  PageSink(FileChannel pageFile, CompletableFuture<Long> before, ExportFile file, RunStop stop) {
    this.pageFile = pageFile;
    this.before = before;
    this.file = file;
    this.stop = stop;
  }

  /** Whether this page writes to the export's file (and no longer to its page file). */
  boolean direct() {
    return end >= 0;
  }

  /** The export file's end after this page's bytes so far; only once {@link #direct}. */
  long end() {
    return end;
  }

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  /** The write that failed, if one did: the page failed with it, whatever the COPY returned. */
  RuntimeException failure() {
    return failure;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    if (failure != null) {
      return;
    }
    try {
      if (end < 0 && before.isDone() && !before.isCompletedExceptionally()) {
        end = file.append(pageFile, before.join(), stop);
      }
      ByteBuffer bytes = ByteBuffer.wrap(b, off, len);
      if (end >= 0) {
        end = file.write(bytes, end, stop);
      } else {
        while (bytes.hasRemaining()) {
          pageFile.write(bytes);
        }
      }
    } catch (IOException e) {
      failure = new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      failure = e;
    }
  }

  /** Leaves the page file open: its owner closes it (and appends it, unless {@link #direct}). */
  @Override
  public void close() {}
}
