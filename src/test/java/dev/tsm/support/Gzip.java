package dev.tsm.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip streams (RFC 1952) written field by field, so that tests choose what the decoder meets:
 * several members, any deflate level, each optional header field.
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
}
