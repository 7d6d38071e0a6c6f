package dev.tsm.upload;

import dev.tsm.csv.Growth;
import java.io.IOException;

/**
 * The progress of one upload to disk, shared between the event loop that writes it and the readers
 * that follow it. Only bytes whose write completed count, so a reader never sees a hole.
 */
public final class Upload implements Growth {
  private long written;
  private boolean complete;
  private String failure;

  @Override
  public synchronized long readable() {
    return written;
  }

  @Override
  public synchronized boolean complete() {
    return complete;
  }

  /** The first {@code bytes} bytes are on disk. */
  public synchronized void advance(long bytes) {
    if (bytes > written) {
      written = bytes;
      notifyAll();
    }
  }

  /** All bytes are on disk: readers may take the end of the file for the end of the data. */
  public synchronized void finish() {
    complete = true;
    notifyAll();
  }

  /** The upload broke off, for this reason (a sentence): readers waiting for more get it. */
  public synchronized void fail(String reason) {
    if (!complete && failure == null) {
      failure = reason;
      notifyAll();
    }
  }

  @Override
  public synchronized void await(long beyond, long timeoutNanos)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (written <= beyond && !complete) {
      if (failure != null) {
        throw new UploadBrokeOffException(failure + " (after " + written + " bytes)");
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }
}
