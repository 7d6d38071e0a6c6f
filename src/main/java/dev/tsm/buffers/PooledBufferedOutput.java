package dev.tsm.buffers;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A buffered stream, as {@link java.io.BufferedOutputStream}, whose buffer comes from a pool and
 * goes back to it when the stream is closed. Not for use after {@link #close}.
 */
public final class PooledBufferedOutput extends OutputStream {
  private final OutputStream out;
  private final ArrayPool pool;
  private byte[] buf;
  private int count;

  public PooledBufferedOutput(OutputStream out, ArrayPool pool) {
    this.out = out;
    this.pool = pool;
    this.buf = pool.take();
  }

  @Override
  public void write(int b) throws IOException {
    if (count == buf.length) {
      drain();
    }
    buf[count++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (len >= buf.length) { // larger than the buffer: no copy through it
      drain();
      out.write(b, off, len);
      return;
    }
    if (len > buf.length - count) {
      drain();
    }
    System.arraycopy(b, off, buf, count, len);
    count += len;
  }

  @Override
  public void flush() throws IOException {
    drain();
    out.flush();
  }

  /** Flushes, closes the stream beneath and hands the buffer back, even if the flush failed. */
  @Override
  public void close() throws IOException {
    if (buf == null) {
      return;
    }
    try (out) {
      flush();
    } finally {
      pool.give(buf);
      buf = null;
    }
  }

  private void drain() throws IOException {
    if (count > 0) {
      out.write(buf, 0, count);
      count = 0;
    }
  }
}
