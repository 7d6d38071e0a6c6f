package dev.tsm.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * CSV bodies made on the fly as they are sent: their length is known in advance (so they go out
 * with a Content-Length, the way that loads while it arrives), and no more than one buffer of them
 * is ever in memory, however large they are.
 */
public abstract class GeneratedCsv {
  private static final int BUFFER = 1 << 20;

  /** Where the bytes go. */
  public interface Sink {
    void write(byte[] data, int offset, int length) throws IOException;
  }

  /** The body's exact length in bytes. */
  public abstract long length();

  /** Appends the next bytes to {@code buf} from {@code at}; returns the new end (at most buf). */
  protected abstract int fill(byte[] buf, int at);

  /** Writes the whole body to {@code sink}, a buffer at a time. */
  public void writeTo(Sink sink) throws IOException {
    byte[] buf = new byte[BUFFER];
    long left = length();
    while (left > 0) {
      int n = fill(buf, 0);
      if (n <= 0 || n > left) {
        throw new IllegalStateException("the generator made " + n + " bytes, " + left + " left");
      }
      sink.write(buf, 0, n);
      left -= n;
    }
  }

  /** A small body already in memory. */
  public static GeneratedCsv of(byte[] bytes) {
    if (bytes.length > BUFFER) {
      throw new IllegalArgumentException("more than one buffer: generate it instead");
    }
    return new GeneratedCsv() {
      private boolean sent;

      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      protected int fill(byte[] buf, int at) {
        if (sent) {
          return at;
        }
        sent = true;
        System.arraycopy(bytes, 0, buf, at, bytes.length);
        return at + bytes.length;
      }
    };
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Rows {@code a,b}: {@code a} is 1,000,000,000 + i (i from 1), {@code b} is {@code md5(a)} in
   * hex, repeated and cut to {@code width} characters: every row is checkable in SQL.
   */
  public static final class GoodRows extends GeneratedCsv {
    private static final long BASE = 1_000_000_000L;
    private final long rows;
    private final int width;
    private final MessageDigest md5;
    private long next = 1;
    private boolean headerDone;

    public GoodRows(long rows, int width) {
      this.rows = rows;
      this.width = width;
      try {
        this.md5 = MessageDigest.getInstance("MD5");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    /** As many rows of {@code width} characters as fit in about {@code bytes} bytes. */
    public static GoodRows ofSize(long bytes, int width) {
      return new GoodRows((bytes - 4) / rowLength(width), width);
    }

    private static int rowLength(int width) {
      return 10 + 1 + width + 1;
    }

    public long rows() {
      return rows;
    }

    @Override
    public long length() {
      return 4 + rows * rowLength(width);
    }

    @Override
    protected int fill(byte[] buf, int at) {
      if (!headerDone) {
        System.arraycopy(ascii("a,b\n"), 0, buf, at, 4);
        at += 4;
        headerDone = true;
      }
      int row = rowLength(width);
      while (next <= rows && at + row <= buf.length) {
        String a = Long.toString(BASE + next);
        byte[] hex = ascii(HexFormat.of().formatHex(md5.digest(ascii(a))));
        System.arraycopy(ascii(a), 0, buf, at, 10);
        buf[at + 10] = ',';
        for (int i = 0; i < width; i++) {
          buf[at + 11 + i] = hex[i % hex.length];
        }
        buf[at + row - 1] = '\n';
        at += row;
        next++;
      }
      return at;
    }

    /**
     * A query of the imported table giving {@code true} when it holds exactly these rows: their
     * number, the sum of {@code a} (no row twice, none missing), and each {@code b}.
     */
    public String checkQuery(String table) {
      long sum = rows * BASE + rows * (rows + 1) / 2;
      int repeats = (width + 31) / 32;
      return "SELECT count(*) = "
          + rows
          + " AND sum(a::bigint) = "
          + sum
          + " AND count(*) FILTER (WHERE b IS DISTINCT FROM left(repeat(md5(a::text), "
          + repeats
          + "), "
          + width
          + ")) = 0 FROM "
          + table;
    }
  }

  /**
   * Header {@code a,b}, one good row, then one-field lines up to {@code length} bytes: every line
   * from 3 on is bad.
   */
  public static final class BadRows extends GeneratedCsv {
    private static final byte[] START = ascii("a,b\n1,x\n");
    private static final byte[] LINE = ascii("no second field\n");
    private final long lines;
    private boolean started;
    private long written;

    public BadRows(long bytes) {
      this.lines = (bytes - START.length) / LINE.length;
    }

    @Override
    public long length() {
      return START.length + lines * LINE.length;
    }

    @Override
    protected int fill(byte[] buf, int at) {
      if (!started) {
        System.arraycopy(START, 0, buf, at, START.length);
        at += START.length;
        started = true;
      }
      while (written < lines && at + LINE.length <= buf.length) {
        System.arraycopy(LINE, 0, buf, at, LINE.length);
        at += LINE.length;
        written++;
      }
      return at;
    }
  }

  /**
   * {@code rows} rows of {@code id,payload}, each {@code width} bytes long with its line end, or,
   * with {@code digits}, rows {@code n,label} whose first field is a number of {@code width}
   * digits.
   */
  public static final class Wide extends GeneratedCsv {
    private final int rows;
    private final int width;
    private final boolean digits;
    private final byte[] header;
    private int next = 1;
    private boolean headerDone;
    // The row being written and how much of it is out.
    private byte[] pending;
    private int pendingAt;

    public Wide(int rows, int width, boolean digits) {
      this.rows = rows;
      this.width = width;
      this.digits = digits;
      this.header = ascii(digits ? "n,label\n" : "id,payload\n");
    }

    @Override
    public long length() {
      long total = header.length;
      for (int i = 1; i <= rows; i++) {
        total += row(i).length;
      }
      return total;
    }

    private byte[] row(int i) {
      if (digits) {
        byte[] row = new byte[width];
        Arrays.fill(row, (byte) '7');
        row[0] = (byte) ('1' + i % 9);
        return concat(row, ascii(",row " + i + "\n"));
      }
      byte[] start = ascii(i + ",");
      byte[] row = new byte[width];
      System.arraycopy(start, 0, row, 0, start.length);
      for (int k = start.length; k < width - 1; k++) {
        row[k] = (byte) ('a' + (i + k) % 26);
      }
      row[width - 1] = '\n';
      return row;
    }

    @Override
    protected int fill(byte[] buf, int at) {
      if (!headerDone) {
        System.arraycopy(header, 0, buf, at, header.length);
        at += header.length;
        headerDone = true;
      }
      while (at < buf.length) {
        if (pending == null) {
          if (next > rows) {
            break;
          }
          pending = row(next++);
          pendingAt = 0;
        }
        int n = Math.min(buf.length - at, pending.length - pendingAt);
        System.arraycopy(pending, pendingAt, buf, at, n);
        at += n;
        pendingAt += n;
        if (pendingAt == pending.length) {
          pending = null;
        }
      }
      return at;
    }

    private static byte[] concat(byte[] a, byte[] b) {
      byte[] out = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, out, a.length, b.length);
      return out;
    }
  }
}
