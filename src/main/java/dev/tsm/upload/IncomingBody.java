package dev.tsm.upload;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * The bytes of an uploaded file as they arrive, whatever framed them (a raw body, or the file part
 * of a multipart body). Used on the request's own context only.
 */
public interface IncomingBody {
  /** The file's bytes; paused until {@link #open()}. Its end is the end of the upload. */
  ReadStream<Buffer> bytes();

  /**
   * Starts the body flowing to the handlers just set on {@link #bytes()}: a client waiting for
   * {@code 100 Continue} is told to send. Returns false when the body had already ended before, so
   * that no end will be signalled.
   */
  boolean open();

  /** Every byte the client sent so far, framing included: silence is measured on this. */
  long received();

  /**
   * The file's length as the client declared it (compressed, for a gzip file), or -1 when only its
   * end will tell.
   */
  long fileLength();

  /**
   * Whether the client said the file is gzip-compressed (Content-Encoding, a {@code .gz} file
   * name); asked once its first bytes arrived. A file starting with the gzip magic is decompressed
   * whatever this says; one said to be gzip must be.
   */
  boolean declaresGzip();

  /** The length of the whole request body as declared (Content-Length), or -1. */
  long declaredLength();
}
