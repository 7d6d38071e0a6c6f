package dev.tsm.upload;

import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Decodes a gzip stream (RFC 1952) pushed to it in pieces of any size as they arrive, and pushes
 * the plain bytes on to a {@link Sink}: nothing blocks waiting for input, so it runs on an event
 * loop, and a stream arriving over several requests is decoded by one decoder kept between them.
 * Members in a row decode as one stream (what {@code cat a.gz b.gz} makes). The headers are parsed
 * here, byte by byte, so a piece may end anywhere, inside a header too; each member's CRC-32 and
 * length are checked against its trailer. {@link Inflater} inflates the deflate data.
 *
 * <p>Memory is bounded: one output buffer, handed to the sink in pieces of at most its size. Since
 * one compressed byte can make about a thousand plain ones, {@link #feed(ByteBuffer, long)} can
 * stop after a given amount of output, leaving the rest of its input unread, for a caller that must
 * hold back while what it wrote catches up.
 *
 * <p>A failure ({@link GzipException}, or whatever the sink throws) ends the decoder. Call {@link
 * #finish()} at the end of the input: only then is a stream cut short told from one still arriving.
 * One thread at a time; {@link #close()} frees the inflater's native memory.
 */
public final class GzipDecoder implements AutoCloseable {
  /** Receives the plain bytes, in order. */
  @FunctionalInterface
  public interface Sink {
    /** The next plain bytes; the buffer is reused once this returns, so copy what is kept. */
    void accept(ByteBuffer plain) throws IOException;
  }

  /** How far the stream was decoded: compressed bytes consumed, plain bytes produced. */
  public record Position(long compressed, long plain) {}

  public static final int DEFAULT_OUTPUT_SIZE = 64 * 1024;

  private static final int ID1 = 0x1f;
  private static final int ID2 = 0x8b;
  private static final int DEFLATE = 8;
  private static final int FHCRC = 0x02;
  private static final int FEXTRA = 0x04;
  private static final int FNAME = 0x08;
  private static final int FCOMMENT = 0x10;
  private static final int RESERVED = 0xe0;
  private static final int FIXED_HEADER = 10;
  private static final int TRAILER_SIZE = 8;

  /** Where the next byte belongs; the optional header fields come in this order. */
  private enum Stage {
    FIXED,
    EXTRA_LENGTH,
    EXTRA,
    NAME,
    COMMENT,
    HEADER_CRC,
    DATA,
    TRAILER
  }

  private final Sink sink;
  private final byte[] out;
  private final Inflater inflater = new Inflater(true);
  private final CRC32 dataCrc = new CRC32();
  private final CRC32 headerCrc = new CRC32();
  private final byte[] field = new byte[FIXED_HEADER]; // the header or trailer part being read
  private Stage stage = Stage.FIXED;
  private int filled;
  private int flags;
  private int extraLeft;
  private long compressed;
  private long plain;
  private long memberPlain;
  private int members;
  private Position lastMemberEnd = new Position(0, 0);
  private String ended; // why no more input is taken, once none is

  public GzipDecoder(Sink sink) {
    this(sink, DEFAULT_OUTPUT_SIZE);
  }

  /** A decoder handing the sink pieces of at most {@code outputSize} bytes. */
  public GzipDecoder(Sink sink, int outputSize) {
    if (outputSize < 1) {
      throw new IllegalArgumentException("outputSize " + outputSize);
    }
    this.sink = sink;
    this.out = new byte[outputSize];
  }

  /** Whether a stream starting with these two bytes is gzip (its magic, 1f 8b). */
  public static boolean isGzipStart(byte first, byte second) {
    return (first & 0xff) == ID1 && (second & 0xff) == ID2;
  }

  /** Decodes all of {@code bytes}. */
  public void feed(byte[] bytes, int offset, int length) throws IOException {
    feed(ByteBuffer.wrap(bytes, offset, length));
  }

  /** Decodes all of {@code chunk}. */
  public void feed(Buffer chunk) throws IOException {
    feed(chunk.getByteBuf().nioBuffer());
  }

  /** Decodes all that remains of {@code in}. */
  public void feed(ByteBuffer in) throws IOException {
    feed(in, Long.MAX_VALUE);
  }

  /**
   * Decodes from {@code in} until it is consumed or at least {@code maxPlain} bytes went to the
   * sink in this call (at most one output buffer more). Its position moves past what was consumed;
   * feed the rest again later. Returns the plain bytes produced.
   */
  public long feed(ByteBuffer in, long maxPlain) throws IOException {
    if (ended != null) {
      throw new IllegalStateException("the gzip decoder " + ended);
    }
    long start = plain;
    try {
      while (plain - start < maxPlain) {
        if (stage == Stage.DATA) {
          if (!inflate(in)) {
            break;
          }
        } else if (in.hasRemaining()) {
          compressed++;
          take(in.get() & 0xff);
        } else {
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      end("failed: " + e.getMessage());
      throw e;
    }
    return plain - start;
  }

  /**
   * The input ended: hands over the last plain bytes, then fails unless the stream ended with a
   * whole member. Ends the decoder.
   */
  public void finish() throws IOException {
    feed(ByteBuffer.allocate(0));
    if (!atMemberEnd() || members == 0) {
      String where = compressed == 0 ? "" : ", in " + part() + " of member " + (members + 1);
      end("failed");
      throw new GzipException(
          "the gzip stream ends before its end: truncated after "
              + compressed
              + " compressed bytes"
              + where);
    }
    end("has finished");
  }

  /** Compressed bytes consumed and plain bytes produced so far. */
  public Position position() {
    return new Position(compressed, plain);
  }

  /**
   * Where the last whole member ended ({@code 0, 0} before any): a point the stream can be decoded
   * again from by a new decoder, e.g. after a restart, dropping the plain bytes past it.
   */
  public Position lastMemberEnd() {
    return lastMemberEnd;
  }

  /** Members decoded and checked so far. */
  public int members() {
    return members;
  }

  /** Whether the bytes consumed so far are whole members (true before the first byte as well). */
  public boolean atMemberEnd() {
    return stage == Stage.FIXED && filled == 0;
  }

  @Override
  public void close() {
    end("is closed");
  }

  private void end(String why) {
    if (ended == null) {
      ended = why;
      inflater.end();
    }
  }

  /** Takes one byte of a header or trailer. */
  private void take(int b) throws GzipException {
    if (stage == Stage.FIXED && filled == 0) {
      headerCrc.reset();
    }
    if (stage.compareTo(Stage.HEADER_CRC) < 0) {
      headerCrc.update(b); // the header CRC covers every header byte before it
    }
    switch (stage) {
      case FIXED -> fixed(b);
      case EXTRA_LENGTH -> {
        if (collect(b, 2)) {
          extraLeft = (int) le(0, 2);
          stage = extraLeft > 0 ? Stage.EXTRA : after(Stage.EXTRA);
        }
      }
      case EXTRA -> {
        if (--extraLeft == 0) {
          stage = after(Stage.EXTRA);
        }
      }
      case NAME, COMMENT -> {
        if (b == 0) {
          stage = after(stage);
        }
      }
      case HEADER_CRC -> {
        if (collect(b, 2)) {
          if (le(0, 2) != (headerCrc.getValue() & 0xffff)) {
            throw corrupt("member " + (members + 1) + " fails its header CRC check");
          }
          stage = after(Stage.HEADER_CRC);
        }
      }
      case TRAILER -> {
        if (collect(b, TRAILER_SIZE)) {
          endMember();
        }
      }
      case DATA -> throw new IllegalStateException("deflate data is inflated, not taken");
    }
  }

  /** The ten bytes every header starts with; checked as they come, so garbage fails at once. */
  private void fixed(int b) throws GzipException {
    boolean last = collect(b, FIXED_HEADER);
    int at = last ? FIXED_HEADER : filled;
    if (at == 1 && b != ID1 || at == 2 && b != ID2) {
      throw members == 0
          ? new GzipException(
              "not a gzip stream: it does not start with the gzip magic bytes 1f 8b")
          : corrupt(
              "the bytes after member "
                  + members
                  + " (from compressed byte "
                  + lastMemberEnd.compressed()
                  + ") are not a gzip member: trailing garbage");
    }
    if (at == 3 && b != DEFLATE) {
      throw corrupt(
          "member " + (members + 1) + " uses compression method " + b + ", not deflate (8)");
    }
    if (at == 4 && (b & RESERVED) != 0) {
      throw corrupt("member " + (members + 1) + " sets reserved header flags");
    }
    if (last) {
      flags = field[3] & 0xff;
      stage = after(Stage.FIXED);
    }
  }

  /** The stage after {@code done}: the next optional field the flags announce, else the data. */
  private Stage after(Stage done) {
    Stage next;
    if (done.compareTo(Stage.EXTRA_LENGTH) < 0 && (flags & FEXTRA) != 0) {
      next = Stage.EXTRA_LENGTH;
    } else if (done.compareTo(Stage.NAME) < 0 && (flags & FNAME) != 0) {
      next = Stage.NAME;
    } else if (done.compareTo(Stage.COMMENT) < 0 && (flags & FCOMMENT) != 0) {
      next = Stage.COMMENT;
    } else if (done.compareTo(Stage.HEADER_CRC) < 0 && (flags & FHCRC) != 0) {
      next = Stage.HEADER_CRC;
    } else {
      next = Stage.DATA;
      dataCrc.reset();
      memberPlain = 0;
    }
    return next;
  }

  /** Adds a byte to the field being read; true once it holds {@code size} bytes (then reset). */
  private boolean collect(int b, int size) {
    field[filled++] = (byte) b;
    if (filled < size) {
      return false;
    }
    filled = 0;
    return true;
  }

  /** The little-endian number in {@code size} bytes of the field from {@code from}. */
  private long le(int from, int size) {
    long value = 0;
    for (int i = size - 1; i >= 0; i--) {
      value = value << 8 | (field[from + i] & 0xff);
    }
    return value;
  }

  /**
   * Inflates what it can of {@code in} into one output buffer and hands it on. Returns false when
   * it needs more input than {@code in} holds.
   */
  private boolean inflate(ByteBuffer in) throws IOException {
    int before = in.position();
    inflater.setInput(in); // the inflater moves the position past what it consumed
    int n;
    try {
      n = inflater.inflate(out);
    } catch (DataFormatException e) {
      throw corrupt(
          "member "
              + (members + 1)
              + " holds invalid deflate data ("
              + e.getMessage()
              + ") near compressed byte "
              + compressed);
    }
    int consumed = in.position() - before;
    compressed += consumed;
    if (n > 0) {
      dataCrc.update(out, 0, n);
      memberPlain += n;
      plain += n;
      sink.accept(ByteBuffer.wrap(out, 0, n));
    }
    if (inflater.finished()) {
      inflater.reset();
      stage = Stage.TRAILER;
      return true;
    }
    if (n > 0 || consumed > 0) {
      return true;
    }
    if (in.hasRemaining()) {
      // Input left, yet no progress: never so for well-formed deflate data.
      throw corrupt("member " + (members + 1) + " holds deflate data that cannot be decoded");
    }
    return false;
  }

  private void endMember() throws GzipException {
    long crc = le(0, 4);
    long size = le(4, 4);
    int member = members + 1;
    if (crc != dataCrc.getValue()) {
      throw corrupt(
          String.format(
              "member %d fails its CRC-32 check (its trailer says %08x, its data is %08x)",
              member, crc, dataCrc.getValue()));
    }
    if (size != (memberPlain & 0xffffffffL)) {
      throw corrupt(
          "member "
              + member
              + "'s trailer gives its length as "
              + size
              + " bytes, but it decompresses to "
              + memberPlain);
    }
    members++;
    lastMemberEnd = new Position(compressed, plain);
    stage = Stage.FIXED;
  }

  /** Where the stream stopped, for a message. */
  private String part() {
    return switch (stage) {
      case DATA -> "the deflate data";
      case TRAILER -> "the trailer";
      default -> "the header";
    };
  }

  private static GzipException corrupt(String what) {
    return new GzipException("the gzip stream is corrupt: " + what);
  }
}
