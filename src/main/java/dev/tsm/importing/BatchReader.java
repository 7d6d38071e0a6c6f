package dev.tsm.importing;

import dev.tsm.buffers.ArrayPool;
import dev.tsm.csv.ByteBuf;
import dev.tsm.csv.CsvDialect;
import dev.tsm.csv.CsvLimits;
import dev.tsm.csv.CsvScanner;
import dev.tsm.csv.Growth;
import dev.tsm.csv.ScannedRecord;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts the staged file into batches bounded in rows and bytes, from a checkpoint on. A bad row
 * counts towards both limits like a good one (its record is read and set aside), so a batch's
 * memory is bounded by the configuration whatever the file holds; when the first bad row fails the
 * task anyway, the batch ends with it and nothing after it is read. Of a file still arriving, a
 * batch also ends where the data on disk ends once it has waited {@link #LINGER_NANOS} for more,
 * even empty: so a slow upload still commits checkpoints (and hears pause and terminate, which are
 * answered at commits) at least that often.
 */
final class BatchReader implements Closeable {
  private static final int REJECT_TEXT_LIMIT = 4096;
  private static final long LINGER_NANOS = 500_000_000L;

  private final Path file;
  private final Growth growth;
  private final CsvDialect dialect;
  private final CsvLimits limits;
  private volatile CsvScanner scanner;
  private final int width;
  private static final int FIRST_BATCH_ROWS = 1000;

  private final int maxRows;
  private boolean first = true;
  private final int maxBytes;
  private final boolean stopAtBadRow;
  private final ScannedRecord rec = new ScannedRecord();
  private boolean done;
  private final ArrayPool buffers;
  private ByteBuf buf;

  BatchReader(
      Path file,
      Growth growth,
      long offset,
      long line,
      CsvDialect dialect,
      CsvLimits limits,
      int width,
      int maxRows,
      int maxBytes,
      ArrayPool buffers,
      boolean stopAtBadRow)
      throws IOException {
    this.file = file;
    this.growth = growth;
    this.dialect = dialect;
    this.limits = limits;
    this.scanner = new CsvScanner(file, offset, line, dialect, limits, growth);
    this.width = width;
    this.maxRows = maxRows;
    this.maxBytes = maxBytes;
    this.buffers = buffers;
    this.stopAtBadRow = stopAtBadRow;
  }

  /**
   * The arrays for a run's batches of up to {@code maxBytes}, {@code inFlight} of them kept: a
   * batch may end past its limit with the record that crosses it, so each is an eighth larger.
   */
  static ArrayPool arrays(int maxBytes, int inFlight) {
    return new ArrayPool(maxBytes + (maxBytes >> 3), inFlight);
  }

  /** The next batch, or null once the file is done. */
  Batch next() throws IOException {
    if (done) {
      return null;
    }
    long startOffset = scanner.offset();
    long openedAt = System.nanoTime();
    scanner.stallAfter(openedAt + LINGER_NANOS);
    buf = new ByteBuf(buffers.take());
    int[] starts = new int[Math.min(maxRows, 1024) + 1];
    long[] lines = new long[starts.length - 1];
    List<Rejects.Reject> rejects = new ArrayList<>();
    int rows = 0;
    int records = 0;
    // The first batch of a run is short, so its first commit comes soon after a start or resume.
    int limit = first ? Math.min(maxRows, FIRST_BATCH_ROWS) : maxRows;
    first = false;
    // Bytes read from the file, bad rows included, bound the batch; its buffer holds fewer.
    while (records < limit && scanner.offset() - startOffset < maxBytes) {
      if (!scanner.ready()) {
        long left = LINGER_NANOS - (System.nanoTime() - openedAt);
        if (left <= 0) {
          break;
        }
        scanner.awaitReady(left);
        continue;
      }
      long recordOffset = scanner.offset();
      long recordLine = scanner.line();
      int kept = buf.length();
      try {
        if (!scanner.next(buf, rec)) {
          done = true;
          break;
        }
      } catch (CsvScanner.StalledException e) {
        // The client went quiet mid-record: end the batch before that record (a checkpoint also
        // hears a pause) and read the record again, whole, with the next batch.
        buf.truncate(kept);
        restartAt(recordOffset, recordLine);
        break;
      }
      records++;
      String problem = problem();
      if (problem != null) {
        rejects.add(new Rejects.Reject(rec.line(), problem, text(buf, rec)));
        buf.truncate(rec.start());
        if (stopAtBadRow) {
          break;
        }
        continue;
      }
      if (rec.blank() && width > 1) {
        buf.truncate(rec.start());
        continue;
      }
      if (rows + 1 >= starts.length) {
        starts = Arrays.copyOf(starts, starts.length * 2);
        lines = Arrays.copyOf(lines, starts.length - 1);
      }
      starts[rows] = rec.start();
      lines[rows] = rec.line();
      rows++;
    }
    if (done && scanner.offset() == startOffset) {
      buffers.give(buf.array());
      return null;
    }
    starts[rows] = buf.length();
    return new Batch(
        buf.array(),
        Arrays.copyOf(starts, rows + 1),
        Arrays.copyOf(lines, rows),
        rejects,
        scanner.offset(),
        scanner.line());
  }

  private String problem() {
    if (rec.error() != null) {
      return rec.error();
    }
    if (rec.fields() != width && !(rec.blank() && width > 1)) {
      return "expected " + width + " fields, found " + rec.fields();
    }
    if (isEndOfDataMarker(rec)) {
      return "a line holding only \\. would end PostgreSQL's COPY data";
    }
    return null;
  }

  private boolean isEndOfDataMarker(ScannedRecord rec) {
    if (rec.length() < 2 || rec.length() > 4) {
      return false;
    }
    byte[] a = buf.array();
    int i = rec.start();
    int end = rec.start() + rec.length();
    return a[i] == '\\'
        && a[i + 1] == '.'
        && (end == i + 2
            || a[i + 2] == '\n'
            || (a[i + 2] == '\r' && (end == i + 3 || a[i + 3] == '\n')));
  }

  private static String text(ByteBuf buf, ScannedRecord rec) {
    int length = Math.min(rec.length(), REJECT_TEXT_LIMIT);
    // Invalid bytes become U+FFFD and NUL is dropped: the text must fit a PostgreSQL text value.
    return new String(buf.array(), rec.start(), length, StandardCharsets.UTF_8)
        .replace("\u0000", "")
        .stripTrailing();
  }

  private void restartAt(long offset, long line) throws IOException {
    CsvScanner stalled = scanner;
    scanner = new CsvScanner(file, offset, line, dialect, limits, growth);
    stalled.close();
  }

  /** Ends a wait for the file to grow, from another thread: the run was cancelled. */
  void cancel() {
    scanner.cancel();
  }

  @Override
  public void close() throws IOException {
    scanner.cancel();
    scanner.close();
  }
}
