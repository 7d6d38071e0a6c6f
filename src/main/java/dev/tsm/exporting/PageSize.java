package dev.tsm.exporting;

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

  /**
   * @param rowsBefore rows written before this run...
   * @param bytesBefore ...in this many bytes of CSV (0 and 0 when unknown)
   */
  PageSize(int maxRows, long maxBytes, long rowsBefore, long bytesBefore) {
    this.maxRows = Math.max(1, maxRows);
    this.maxBytes = Math.max(1, maxBytes);
    this.rows = rowsBefore;
    this.bytes = bytesBefore;
  }

  synchronized int rows() {
    if (first || rows == 0) {
      first = false;
      return Math.min(maxRows, FIRST_PAGE_ROWS);
    }
    long perRow = Math.max(1, bytes / rows);
    return (int) Math.max(Math.min(MIN_ROWS, maxRows), Math.min(maxRows, maxBytes / perRow));
  }

  /** A page written: {@code pageRows} rows in {@code pageBytes} bytes of CSV. */
  synchronized void saw(long pageRows, long pageBytes) {
    if (pageRows > 0) {
      rows += pageRows;
      bytes += pageBytes;
    }
  }
}
