package dev.tsm.tus;

import dev.tsm.Config;
import dev.tsm.csv.FileStore;
import dev.tsm.upload.GzipDecoder;
import dev.tsm.upload.GzipException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decompresses gzip uploads into their CSV files as the bytes arrive, request after request. A
 * decoder's state cannot be stored, so the replica that wrote an upload's last bytes keeps it in
 * memory; a request that finds none here (another replica wrote before, or this one restarted)
 * first decodes the bytes already received again, writing nothing, to rebuild it.
 */
@ApplicationScoped
class Decoders {
  private static final int READ = 1 << 20;

  private final Map<UUID, Kept> kept = new ConcurrentHashMap<>();
  private final FileStore files;
  private final long maxPlain;

  Decoders(FileStore files, Config config) {
    this.files = files;
    this.maxPlain = config.importing().maxBodySize().asLongValue();
  }

  /** One upload's decompression, continued by one request at a time. */
  interface Decoding {
    void feed(byte[] bytes, int offset, int length) throws IOException;

    /** The upload is complete: the compressed stream must end here. */
    void finish() throws IOException;

    void force() throws IOException;

    long plain();

    void close();
  }

  /** The bytes are not a gzip stream, one cut short, or one that decompresses past the limit. */
  static class CorruptException extends IOException {
    CorruptException(String message) {
      super(message);
    }
  }

  /** The file decompresses to more than {@code tsm.import.max-body-size}. */
  static final class TooLargeException extends CorruptException {
    TooLargeException(String message) {
      super(message);
    }
  }

  /** A decoder and where its plain bytes go. */
  private static final class Kept {
    final PlainFile out = new PlainFile();
    final GzipDecoder decoder;

    Kept(long maxPlain) {
      out.max = maxPlain;
      decoder = new GzipDecoder(out::accept);
    }

    long compressed() {
      return decoder.position().compressed();
    }

    long plain() {
      return decoder.position().plain();
    }
  }

  /** The CSV file the plain bytes are appended to; none while a decoder is rebuilt. */
  private static final class PlainFile {
    FileChannel channel;
    long position;
    long max;

    void accept(ByteBuffer plain) throws IOException {
      if (position + plain.remaining() > max) {
        throw new TooLargeException(
            "the file decompresses to more than "
                + max
                + " bytes, the limit (tsm.import.max-body-size)");
      }
      if (channel == null) {
        position += plain.remaining(); // rebuilding: these bytes are on disk already
        return;
      }
      while (plain.hasRemaining()) {
        position += channel.write(plain, position);
      }
    }
  }

  /**
   * The decoding of {@code u} from its offset on, its plain bytes appended to the CSV file (cut
   * back to what the upload's last commit recorded).
   */
  Decoding resume(UploadRow u, Path raw) throws IOException {
    Kept k = kept.remove(u.id());
    if (k == null || k.compressed() != u.received() || k.plain() != u.plain()) {
      if (k != null) {
        k.decoder.close();
      }
      k = rebuild(u, raw);
    }
    FileChannel channel =
        FileChannel.open(
            files.importFile(u.taskId()), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    channel.truncate(u.plain());
    k.out.channel = channel;
    k.out.position = u.plain();
    return new Continued(u.id(), k);
  }

  /** Decodes the received prefix again, writing nothing, to reach the state it left. */
  private Kept rebuild(UploadRow u, Path raw) throws IOException {
    Kept k = new Kept(maxPlain);
    if (u.received() == 0) {
      return k;
    }
    ByteBuffer buf = ByteBuffer.allocate(READ);
    try (FileChannel in = FileChannel.open(raw, StandardOpenOption.READ)) {
      long at = 0;
      while (at < u.received()) {
        buf.clear();
        buf.limit((int) Math.min(READ, u.received() - at));
        int n = in.read(buf, at);
        if (n < 0) {
          throw new CorruptException(
              "the upload's compressed bytes on disk end before its offset " + u.received());
        }
        buf.flip();
        feed(k, buf);
        at += n;
      }
    } catch (IOException | RuntimeException e) {
      k.decoder.close();
      throw e;
    }
    if (k.plain() != u.plain()) {
      k.decoder.close();
      throw new CorruptException(
          "decompressing the upload again gave "
              + k.plain()
              + " bytes where "
              + u.plain()
              + " were recorded");
    }
    return k;
  }

  private static void feed(Kept k, ByteBuffer in) throws IOException {
    try {
      k.decoder.feed(in);
    } catch (TooLargeException e) {
      throw e;
    } catch (GzipException e) {
      throw new CorruptException("the gzip stream is corrupt: " + e.getMessage());
    }
  }

  /** Keeps the decoding of a request that committed, for the next request to this replica. */
  void keep(UploadRow u, Decoding decoding) {
    Continued c = (Continued) decoding;
    c.release();
    kept.put(u.id(), c.k);
  }

  void forget(UUID id) {
    Kept k = kept.remove(id);
    if (k != null) {
      k.decoder.close();
    }
  }

  private static final class Continued implements Decoding {
    private final UUID id;
    private final Kept k;
    private boolean kept;

    Continued(UUID id, Kept k) {
      this.id = id;
      this.k = k;
    }

    @Override
    public void feed(byte[] bytes, int offset, int length) throws IOException {
      Decoders.feed(k, ByteBuffer.wrap(bytes, offset, length));
    }

    @Override
    public void finish() throws IOException {
      try {
        k.decoder.finish();
      } catch (GzipException e) {
        throw new CorruptException("the gzip stream is cut short: " + e.getMessage());
      }
    }

    @Override
    public void force() throws IOException {
      k.out.channel.force(false);
    }

    @Override
    public long plain() {
      return k.plain();
    }

    /** The file is closed; the decoder lives on, kept for the next request. */
    void release() {
      kept = true;
      closeFile();
    }

    @Override
    public void close() {
      closeFile();
      if (!kept) {
        k.decoder.close(); // it went past what was committed: useless now
      }
    }

    private void closeFile() {
      try {
        if (k.out.channel != null) {
          k.out.channel.close();
        }
      } catch (IOException ignored) {
        // read-write file already synced, or the request failed anyway
      } finally {
        k.out.channel = null;
      }
    }

    @Override
    public String toString() {
      return "decoding of upload " + id;
    }
  }
}
