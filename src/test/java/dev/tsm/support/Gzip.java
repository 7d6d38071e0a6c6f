package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;

/**
 * Gzip files as their readers see them: Java's GZIPInputStream, the gzip command, member by member.
 */
public final class Gzip {
  private Gzip() {}

  /** Decompressed by GZIPInputStream, which reads the members one after the other. */
  public static byte[] decompress(byte[] gzip) {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code gzip -t file}, then {@code gzip -dc file}: what the gzip command decompresses. */
  public static byte[] gunzip(Path file) {
    run("gzip", "-t", file.toString());
    return run("gzip", "-dc", file.toString());
  }

  private static byte[] run(String... command) {
    try {
      Process p =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      byte[] out = p.getInputStream().readAllBytes();
      assertEquals(0, p.waitFor(), String.join(" ", command) + " failed");
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The complete members the file is made of, each read on its own (header, deflate data that ends,
   * CRC-32 and length of its trailer), with nothing after the last: fails on anything else.
   */
  public static int members(byte[] gzip) {
    int count = 0;
    int at = 0;
    byte[] buffer = new byte[1 << 16];
    while (at < gzip.length) {
      String member = "member " + count + " at byte " + at;
      assertTrue(gzip.length - at >= 18, member + ": too short for a gzip member");
      assertEquals(0x1f, gzip[at] & 0xff, member + ": magic");
      assertEquals(0x8b, gzip[at + 1] & 0xff, member + ": magic");
      assertEquals(8, gzip[at + 2], member + ": deflate");
      assertEquals(0, gzip[at + 3], member + ": no optional header fields");
      Inflater inflater = new Inflater(true);
      CRC32 crc = new CRC32();
      long size = 0;
      try {
        inflater.setInput(gzip, at + 10, gzip.length - at - 10);
        while (!inflater.finished()) {
          int n = inflater.inflate(buffer);
          assertTrue(n > 0 || !inflater.needsInput(), member + ": cut short");
          crc.update(buffer, 0, n);
          size += n;
        }
        at += 10 + (int) inflater.getBytesRead();
      } catch (DataFormatException e) {
        throw new AssertionError(member + ": " + e.getMessage(), e);
      } finally {
        inflater.end();
      }
      assertTrue(gzip.length - at >= 8, member + ": no trailer");
      ByteBuffer trailer = ByteBuffer.wrap(gzip, at, 8).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals((int) crc.getValue(), trailer.getInt(), member + ": CRC-32");
      assertEquals((int) size, trailer.getInt(), member + ": length");
      at += 8;
      count++;
    }
    return count;
  }
}
