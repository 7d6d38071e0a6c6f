package dev.tsm.upload;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What the staged file holds of a body: its bytes as they came, or, for a gzip body, the CSV they
 * decompress to, so that readers and checkpoints only ever see plain CSV. A body is gzip when the
 * client says so, or when it starts with the gzip magic (1f 8b), which no CSV the service accepts
 * can: 0x8b cannot start a UTF-8 character. Used by the one thread writing the body.
 */
final class StagedForm implements AutoCloseable {
  private final boolean declaredGzip;
  private final GzipDecoder.Sink sink;
  private final byte[] head = new byte[2];
  private int headLength;
  private GzipDecoder gzip;
  private boolean plain;

  StagedForm(boolean declaredGzip, GzipDecoder.Sink sink) {
    this.declaredGzip = declaredGzip;
    this.sink = sink;
  }

  /**
   * Passes {@code in} on to the sink: all of it when plain; when gzip, until about {@code budget}
   * bytes came out of it, the rest left in {@code in}.
   */
  void push(ByteBuffer in, long budget) throws IOException {
    if (gzip == null && !plain && !decide(in)) {
      return;
    }
    if (gzip != null) {
      gzip.feed(in, budget);
    } else {
      sink.accept(in);
    }
  }

  /** The body ended: fails if it was gzip and its stream is incomplete. */
  void end() throws IOException {
    if (gzip != null) {
      gzip.finish();
    } else if (!plain && headLength > 0) {
      sink.accept(ByteBuffer.wrap(head, 0, headLength)); // a body of a single byte
    }
  }

  /** Whether the body is gzip, the file holding what it decompresses to; false until known. */
  boolean compressed() {
    return gzip != null;
  }

  /**
   * Decides on the body's first bytes: the first one when declared gzip (the decoder then checks
   * the magic), else the first two. Returns false while it cannot yet.
   */
  private boolean decide(ByteBuffer in) throws IOException {
    if (declaredGzip) {
      if (!in.hasRemaining()) {
        return false; // an empty body stays empty, whatever its coding
      }
      gzip = new GzipDecoder(sink);
      return true;
    }
    while (headLength < head.length && in.hasRemaining()) {
      head[headLength++] = in.get();
    }
    if (headLength < head.length) {
      return false;
    }
    ByteBuffer first = ByteBuffer.wrap(head);
    if (GzipDecoder.isGzipStart(head[0], head[1])) {
      gzip = new GzipDecoder(sink);
      gzip.feed(first); // header bytes: nothing comes out
    } else {
      plain = true;
      sink.accept(first);
    }
    return true;
  }

  @Override
  public void close() {
    if (gzip != null) {
      gzip.close();
    }
  }
}
