package dev.tsm.exporting;

import dev.tsm.task.Task;

/**
 * Rows in the next page: about {@code maxBytes} of CSV judged from the bytes per row written so
 * far, at most {@code maxRows}. The first page of a run with nothing written is small, so its bytes
 * per row are known early and the first checkpoint comes soon.
 */
final class PageSize {
  private static final int FIRST_PAGE_ROWS = 1000;
  private static final int MIN_ROWS = 16;

  private final int maxRows;
  private final long maxBytes;
  private long rows;
  private long bytes;
  private boolean first = true;

  PageSize(int maxRows, long maxBytes, Task task) {
    this.maxRows = Math.max(1, maxRows);
    this.maxBytes = Math.max(1, maxBytes);
    this.rows = task.checkpoint().rowsDone();
    this.bytes = task.checkpoint().bytesDone();
  }

  synchronized int rows() {
    if (first || rows == 0) {
      first = false;
      return Math.min(maxRows, FIRST_PAGE_ROWS);
    }
    long perRow = Math.max(1, bytes / rows);
    return (int) Math.max(Math.min(MIN_ROWS, maxRows), Math.min(maxRows, maxBytes / perRow));
  }

  /** A page written: {@code pageRows} rows in {@code pageBytes} bytes. */
  synchronized void saw(long pageRows, long pageBytes) {
    if (pageRows > 0) {
      rows += pageRows;
      bytes += pageBytes;
    }
  }
}
