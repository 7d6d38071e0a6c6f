package dev.tsm.tus;

import dev.tsm.Refusal;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.util.UUID;

/** Decompresses gzip uploads into their CSV files as the bytes arrive. */
@ApplicationScoped
class Decoders {
  /** One upload's decompression, continued request after request. */
  interface Decoding {
    void feed(byte[] bytes, int offset, int length) throws IOException;

    /** The upload is complete: the compressed stream must end here. */
    void finish() throws IOException;

    void force() throws IOException;

    long plain();

    void close();
  }

  /** The compressed bytes are not a gzip stream, or one cut short. */
  static final class CorruptException extends IOException {
    CorruptException(String message) {
      super(message);
    }
  }

  Decoding resume(UploadRow u, Path raw) throws IOException {
    throw Refusal.invalid("gzip-compressed resumable uploads are not supported yet");
  }

  void keep(UploadRow u, Decoding decoding) {}

  void forget(UUID id) {}
}
