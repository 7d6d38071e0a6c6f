package dev.tsm.exporting;

import dev.tsm.buffers.ArrayPool;
import dev.tsm.buffers.PooledBufferedOutput;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Where COPY TO writes one page: its page file, as it is or through a gzip member of its own.
 * Counts the CSV bytes that go in, the page's size whatever the file holds. Memory stays bounded
 * however large the page: a buffer, and for gzip the deflater's window and output buffer.
 */
final class PageOutput extends OutputStream {
  /** Plain pages: few, large writes to the file. */
  static final int WRITE_BUFFER = 1 << 20;

  /** Gzip pages: COPY hands over a row at a time; the deflater takes them in blocks. */
  private static final int DEFLATE_BUFFER = 1 << 16;

  private final OutputStream out;
  private long csvBytes;

  private PageOutput(OutputStream out) {
    this.out = out;
  }

  /**
   * @param level the deflate level of a gzip page, 0 (stored) to 9 (smallest)
   * @param writeBuffers where a plain page takes its buffer of {@link #WRITE_BUFFER} bytes from,
   *     and gives it back when closed
   */
  static PageOutput to(
      OutputStream sink, Compression compression, int level, ArrayPool writeBuffers)
      throws IOException {
    return new PageOutput(
        compression == Compression.GZIP
            ? new BufferedOutputStream(new Member(sink, level), DEFLATE_BUFFER)
            : new PooledBufferedOutput(sink, writeBuffers));
  }

  /** The CSV bytes written so far, before any compression. */
  long csvBytes() {
    return csvBytes;
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
    csvBytes++;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    csvBytes += len;
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  /** Writes what is buffered; a gzip page gets its trailer, which makes it a complete member. */
  @Override
  public void close() throws IOException {
    out.close();
  }

  /** One complete gzip member (RFC 1952) at the given level. */
  private static final class Member extends GZIPOutputStream {
    Member(OutputStream out, int level) throws IOException {
      super(out, DEFLATE_BUFFER);
      // Before any data: the header just written does not depend on the level.
      def.setLevel(Math.max(0, Math.min(9, level)));
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        // Its native memory at once, even when the trailer could not be written.
        def.end();
      }
    }
  }
}
