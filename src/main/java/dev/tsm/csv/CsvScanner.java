package dev.tsm.csv;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.CancellationException;

/**
 * Finds record boundaries in a CSV file with PostgreSQL's quoting rules, and checks what PostgreSQL
 * would reject in text: invalid UTF-8 and NUL bytes. It never decodes values: the raw bytes of good
 * records go to PostgreSQL's own CSV parser (COPY), so that parser alone defines the result,
 * exactly as {@code psql \copy} does.
 *
 * <p>It starts at any byte offset where a record starts, which is what makes resume O(1). It can
 * follow a file that is still being uploaded ({@link Growth}): it reads only bytes that reached the
 * disk and waits for more where a record is cut short.
 */
public final class CsvScanner implements Closeable {
  private static final int READ_SIZE = 1 << 18;
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
  // Waits for a growing file are cut in slices so that a cancel is seen soon.
  private static final long WAIT_SLICE_NANOS = 100_000_000L;

  // Byte classes: a plain byte (most of a file) changes nothing but the record length, so runs of
  // them are skipped; the others are looked at one by one.
  private static final byte PLAIN = 0;
  private static final byte QUOTE = 1;
  private static final byte DELIMITER = 2;
  private static final byte LINE_FEED = 3;
  private static final byte CARRIAGE_RETURN = 4;
  private static final byte NUL = 5;
  private static final byte NON_ASCII = 6;
  private static final byte QUOTED_LINE_FEED = 7;

  private final FileChannel channel;
  private final byte[] buf = new byte[READ_SIZE];
  private final ByteBuffer window = ByteBuffer.wrap(buf);
  private final byte[] unquotedClasses;
  private final byte[] quotedClasses;
  private final CsvLimits limits;
  private final Growth growth;
  private volatile boolean cancelled;
  private long stallDeadline = Long.MAX_VALUE;
  private int pos;
  private int limit;
  private long windowOffset;
  private long line;

  /**
   * @param offset byte offset of a record start; at 0 a UTF-8 byte order mark is skipped
   * @param line line number of the record at {@code offset} (1 for the start of the file)
   */
  public CsvScanner(Path file, long offset, long line, CsvDialect dialect, CsvLimits limits)
      throws IOException {
    this(file, offset, line, dialect, limits, Growth.WHOLE);
  }

  /** A scanner of a file that may still grow: it reads what {@code growth} says is on disk. */
  public CsvScanner(
      Path file, long offset, long line, CsvDialect dialect, CsvLimits limits, Growth growth)
      throws IOException {
    this.unquotedClasses = byteClasses(dialect.delimiter(), false);
    this.quotedClasses = byteClasses(dialect.delimiter(), true);
    this.limits = limits;
    this.growth = growth;
    this.line = line;
    if (offset == 0) {
      // The first bytes decide about a byte order mark: have them all before looking. (A file
      // still arriving may not even exist before its first write completed.)
      awaitBytes(BOM.length);
    }
    this.channel = FileChannel.open(file, StandardOpenOption.READ);
    channel.position(offset);
    windowOffset = offset;
    if (offset == 0) {
      if (fill(0) && startsWithBom()) {
        pos = BOM.length;
      }
    }
  }

  /**
   * Whether the next record can start without waiting for the file to grow: always for a complete
   * file. A record that then turns out to be cut short still waits for its end.
   */
  public boolean ready() {
    return pos < limit || growth.complete() || growth.readable() > windowOffset + limit;
  }

  /** Waits up to {@code timeoutNanos} for {@link #ready()}. */
  public void awaitReady(long timeoutNanos) throws IOException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (!ready()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      waitForGrowth(windowOffset + limit, Math.min(left, WAIT_SLICE_NANOS));
    }
  }

  /**
   * From {@code nanoTime} ({@link System#nanoTime()}) on, a record cut short by the end of the data
   * on disk ends the scan with a {@link StalledException} instead of waiting for the rest.
   */
  public void stallAfter(long nanoTime) {
    stallDeadline = nanoTime;
  }

  /**
   * A record was cut short by the end of a growing file past the {@link #stallAfter} deadline. The
   * scanner is then mid-record: scan on with a new one, from that record's start.
   */
  public static final class StalledException extends IOException {
    StalledException() {
      super("a record is cut short and the file does not grow");
    }
  }

  /** Ends any wait for the file to grow, now and later, with a {@link CancellationException}. */
  public void cancel() {
    cancelled = true;
  }

  /** Byte offset of the next record. */
  public long offset() {
    return windowOffset + pos;
  }

  /** Line number of the next record. */
  public long line() {
    return line;
  }

  /**
   * Scans the next record and appends its bytes, line end included, to {@code out} (unless it is
   * longer than the record limit). Returns false at the end of the file.
   */
  public boolean next(ByteBuf out, ScannedRecord rec) throws IOException {
    rec.line = line;
    rec.start = out.length();
    rec.error = null;
    // Lengths and positions come from absolute file offsets rather than a count kept per byte.
    long recordStart = offset();
    long recordEnd = recordStart + limits.maxRecordBytes();
    boolean inQuote = false;
    boolean storing = true;
    boolean ended = false;
    int fields = 1;
    int embeddedLines = 0;
    long fieldStart = recordStart;
    long carriageReturnEnd = -1;
    int carriageReturns = 0;
    int need = 0;
    int lo = 0x80;
    int hi = 0xBF;
    int segment = pos;
    while (!ended) {
      if (pos == limit) {
        if (storing) {
          out.append(buf, segment, pos - segment);
        }
        if (!fill(pos)) {
          if (offset() == recordStart) {
            return false;
          }
          if (inQuote) {
            rec.error = first(rec.error, "a quoted field opened in this record is never closed");
          } else if (need > 0) {
            rec.error = first(rec.error, "invalid UTF-8: a multi-byte character is cut short");
          }
          break;
        }
        segment = 0;
      }
      // A run of plain bytes raises no error, so one limit check after it finds what a check
      // after each byte would. While a UTF-8 character is unfinished nothing is skipped: each of
      // its bytes must be a continuation byte.
      byte[] table = inQuote ? quotedClasses : unquotedClasses;
      if (need == 0) {
        int runStart = pos;
        pos = skipPlain(table, pos);
        if (pos != runStart) {
          storing = storing && withinLimit(out, rec, inQuote, recordEnd);
          if (pos == limit) {
            continue;
          }
        }
      }
      int u = buf[pos++] & 0xFF;
      if (need > 0) {
        if (u >= lo && u <= hi) {
          // No limit check after a continuation byte: the one after the next byte covers it.
          need--;
          lo = 0x80;
          hi = 0xBF;
          continue;
        }
        rec.error = first(rec.error, utf8Error(offset() - recordStart));
        need = 0;
      }
      switch (table[u]) {
        case QUOTE -> inQuote = !inQuote;
        case NON_ASCII -> {
          if (u >= 0xC2 && u <= 0xDF) {
            need = 1;
          } else if (u >= 0xE0 && u <= 0xEF) {
            need = 2;
            lo = u == 0xE0 ? 0xA0 : 0x80;
            hi = u == 0xED ? 0x9F : 0xBF;
          } else if (u >= 0xF0 && u <= 0xF4) {
            need = 3;
            lo = u == 0xF0 ? 0x90 : 0x80;
            hi = u == 0xF4 ? 0x8F : 0xBF;
          } else {
            rec.error = first(rec.error, utf8Error(offset() - recordStart));
          }
        }
        case NUL ->
            rec.error =
                first(
                    rec.error,
                    "a NUL byte (0x00) at byte " + (offset() - recordStart) + " of the record");
        case QUOTED_LINE_FEED -> embeddedLines++;
        case DELIMITER -> {
          rec.error = first(rec.error, checkField(fields, offset() - 1 - fieldStart));
          fields++;
          fieldStart = offset();
        }
        case LINE_FEED -> ended = true;
        case CARRIAGE_RETURN -> {
          carriageReturnEnd = offset();
          carriageReturns++;
        }
        default -> {} // a plain byte that cut a UTF-8 character short
      }
      storing = storing && withinLimit(out, rec, inQuote, recordEnd);
    }
    if (storing && segment < pos && ended) {
      out.append(buf, segment, pos - segment);
    }
    long end = offset();
    long recordLength = end - recordStart;
    // The line end, LF or CRLF, is no part of the last field.
    long lineEnd = !ended ? 0 : carriageReturnEnd == end - 1 ? 2 : 1;
    if (carriageReturns > (lineEnd == 2 ? 1 : 0)) {
      // PostgreSQL ends a line at a bare CR too: the record would reach it as two rows.
      rec.error =
          first(
              rec.error,
              "a carriage return (CR) outside quotes that does not end the line: quote the field"
                  + " that holds it (lines end with LF or CRLF)");
    }
    rec.error = first(rec.error, checkField(fields, end - fieldStart - lineEnd));
    rec.fields = fields;
    rec.length = storing ? out.length() - rec.start : 0;
    rec.blank = recordLength <= 2 && fields == 1 && isLineEndOnly(out, rec);
    rec.endOffset = end;
    line += 1 + embeddedLines;
    return true;
  }

  /** Index of the first byte from {@code p} on that {@code table} does not call plain. */
  private int skipPlain(byte[] table, int p) {
    byte[] b = buf;
    int end = limit;
    while (p < end && table[b[p] & 0xFF] == PLAIN) {
      p++;
    }
    return p;
  }

  /**
   * What each byte means to {@link #next}, outside or inside quotes. Later entries win, which gives
   * the same precedence as a chain of tests: quote, non-ASCII, NUL, then delimiter, LF, CR.
   */
  private static byte[] byteClasses(byte delimiter, boolean quoted) {
    byte[] table = new byte[256];
    if (quoted) {
      table['\n'] = QUOTED_LINE_FEED;
    } else {
      table['\r'] = CARRIAGE_RETURN;
      table['\n'] = LINE_FEED;
      table[delimiter & 0xFF] = DELIMITER;
    }
    table[0] = NUL;
    Arrays.fill(table, 0x80, 0x100, NON_ASCII);
    table[CsvDialect.QUOTE] = QUOTE;
    return table;
  }

  /**
   * Whether the record still ends by {@code recordEnd}, the furthest offset the record limit
   * allows; if not, its bytes are dropped from {@code out} so that it stays bounded.
   */
  private boolean withinLimit(ByteBuf out, ScannedRecord rec, boolean inQuote, long recordEnd) {
    if (offset() <= recordEnd) {
      return true;
    }
    rec.error =
        first(
            rec.error,
            "the record is longer than the limit of "
                + limits.maxRecordBytes()
                + " bytes"
                + (inQuote ? ": a quoted field opened in it is never closed" : ""));
    out.truncate(rec.start);
    return false;
  }

  private boolean isLineEndOnly(ByteBuf out, ScannedRecord rec) {
    byte[] a = out.array();
    for (int i = rec.start; i < rec.start + rec.length; i++) {
      if (a[i] != '\n' && a[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  private String checkField(int field, long length) {
    if (length > limits.maxFieldBytes()) {
      return "field "
          + field
          + " is "
          + length
          + " bytes long, over the limit of "
          + limits.maxFieldBytes();
    }
    if (field > limits.maxColumns()) {
      return "more than " + limits.maxColumns() + " fields";
    }
    return null;
  }

  private static String utf8Error(long at) {
    return "invalid UTF-8 byte sequence at byte " + at + " of the record";
  }

  private static String first(String existing, String candidate) {
    return existing != null ? existing : candidate;
  }

  private boolean startsWithBom() {
    if (limit < BOM.length) {
      return false;
    }
    return buf[0] == BOM[0] && buf[1] == BOM[1] && buf[2] == BOM[2];
  }

  /**
   * Reads the next window of the file; {@code consumed} bytes of the current one are done. Returns
   * false at the end of a complete file; waits while a growing file has nothing more yet.
   */
  private boolean fill(int consumed) throws IOException {
    windowOffset += consumed;
    pos = 0;
    limit = 0;
    awaitBytes(windowOffset + 1);
    long readable = growth.readable();
    if (readable <= windowOffset) {
      return false; // complete, and all of it read
    }
    window.clear();
    window.limit((int) Math.min(buf.length, readable - windowOffset));
    int n;
    do {
      n = channel.read(window);
    } while (n == 0);
    limit = Math.max(n, 0);
    return n > 0;
  }

  /** Waits until {@code bytes} bytes of the file are readable or the file is complete. */
  private void awaitBytes(long bytes) throws IOException {
    while (growth.readable() < bytes && !growth.complete()) {
      if (System.nanoTime() >= stallDeadline) {
        throw new StalledException();
      }
      waitForGrowth(bytes - 1, Math.min(WAIT_SLICE_NANOS, stallDeadline - System.nanoTime()));
    }
  }

  private void waitForGrowth(long beyond, long timeoutNanos) throws IOException {
    if (cancelled) {
      throw new CancellationException("the scan was cancelled");
    }
    try {
      growth.await(beyond, timeoutNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the upload");
    }
  }

  @Override
  public void close() throws IOException {
    cancelled = true;
    channel.close();
  }
}
