package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;

/**
 * gzip streams (RFC 1952) written field by field, so that tests choose what the decoder meets
 * (several members, any deflate level, each optional header field); and gzip files as their readers
 * see them (Java's GZIPInputStream, the gzip command, member by member).
 */
public final class Gzip {
  /** The optional fields of a member's header (null: absent). */
  public record Header(String name, byte[] extra, String comment, boolean headerCrc) {
    public static final Header BARE = new Header(null, null, null, false);
  }

  private Gzip() {}

  /** One member with a bare header, at the default level. */
  public static byte[] of(byte[] plain) {
    return member(plain, 0, plain.length, Deflater.DEFAULT_COMPRESSION, Header.BARE);
  }

  /** One member holding {@code plain[from, to)} deflated at {@code level} (0 stores it). */
  public static byte[] member(byte[] plain, int from, int to, int level, Header header) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int flags =
        (header.headerCrc() ? 0x02 : 0)
            | (header.extra() != null ? 0x04 : 0)
            | (header.name() != null ? 0x08 : 0)
            | (header.comment() != null ? 0x10 : 0);
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, (byte) flags, 1, 2, 3, 4, 0, 3});
    if (header.extra() != null) {
      littleEndian(out, header.extra().length, 2);
      out.writeBytes(header.extra());
    }
    if (header.name() != null) {
      out.writeBytes(header.name().getBytes(StandardCharsets.ISO_8859_1));
      out.write(0);
    }
    if (header.comment() != null) {
      out.writeBytes(header.comment().getBytes(StandardCharsets.ISO_8859_1));
      out.write(0);
    }
    if (header.headerCrc()) {
      CRC32 crc = new CRC32();
      crc.update(out.toByteArray());
      littleEndian(out, crc.getValue() & 0xffff, 2);
    }
    Deflater deflater = new Deflater(level, true);
    deflater.setInput(plain, from, to - from);
    deflater.finish();
    byte[] buf = new byte[8192];
    while (!deflater.finished()) {
      out.write(buf, 0, deflater.deflate(buf));
    }
    deflater.end();
    CRC32 crc = new CRC32();
    crc.update(plain, from, to - from);
    littleEndian(out, crc.getValue(), 4);
    littleEndian(out, to - from, 4);
    return out.toByteArray();
  }

  /**
   * {@code plain} as {@code count} members cut at random points (some may be empty), each at a
   * random level with random header fields, from {@code seed}.
   */
  public static byte[] members(byte[] plain, int count, long seed) {
    Random random = new Random(seed);
    int[] cuts = new int[count + 1];
    for (int i = 1; i < count; i++) {
      cuts[i] = random.nextInt(plain.length + 1);
    }
    cuts[count] = plain.length;
    Arrays.sort(cuts);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < count; i++) {
      out.writeBytes(member(plain, cuts[i], cuts[i + 1], random.nextInt(10), header(random)));
    }
    return out.toByteArray();
  }

  /** Header fields drawn at random: each present or not. */
  public static Header header(Random random) {
    byte[] extra = null;
    if (random.nextBoolean()) {
      extra = new byte[random.nextInt(40)];
      random.nextBytes(extra);
    }
    return new Header(
        random.nextBoolean() ? "part-" + random.nextInt(1000) + ".csv" : null,
        extra,
        random.nextBoolean() ? "a comment " + random.nextInt() : null,
        random.nextBoolean());
  }

  /**
   * {@code plain} gzip-compressed in {@code members} members, written next to it as {@code .gz}.
   */
  public static Path file(Path plain, int members, long seed) {
    try {
      byte[] gz = members(Files.readAllBytes(plain), members, seed);
      return Files.write(plain.resolveSibling(plain.getFileName() + ".gz"), gz);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void littleEndian(ByteArrayOutputStream out, long value, int bytes) {
    for (int i = 0; i < bytes; i++) {
      out.write((int) (value >>> (8 * i)) & 0xff);
    }
  }

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
