package dev.tsm.csv;

import java.io.IOException;

/**
 * How much of a file can be read: all of a finished file, or the part of an upload that has reached
 * the disk so far. Readers of a growing file wait here for more bytes instead of taking a short
 * file for its end.
 */
public interface Growth {
  /** A file that is complete on disk. */
  Growth WHOLE =
      new Growth() {
        @Override
        public long readable() {
          return Long.MAX_VALUE;
        }

        @Override
        public boolean complete() {
          return true;
        }

        @Override
        public void await(long beyond, long timeoutNanos) {}
      };

  /** Bytes from the start of the file that are on disk and final. */
  long readable();

  /** Whether the file has all its bytes: {@link #readable()} is its length. */
  boolean complete();

  /**
   * Waits until more than {@code beyond} bytes are readable, the file is complete, or the timeout
   * passed, whichever comes first.
   *
   * @throws IOException if the file will never be complete (its upload broke off)
   */
  void await(long beyond, long timeoutNanos) throws IOException, InterruptedException;
}
