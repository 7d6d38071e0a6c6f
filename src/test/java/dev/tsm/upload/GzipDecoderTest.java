package dev.tsm.upload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Gzip;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The push decoder against streams cut into pieces anywhere: what comes out equals what went in,
 * and a stream that is cut short, corrupt or followed by garbage fails with the reason.
 */
class GzipDecoderTest {
  private static final int OUTPUT = 4096; // small, so that output comes in many pieces

  /** Plain bytes: CSV-like text with runs (compressible) and random bytes (not), from a seed. */
  private static byte[] plain(Random random, int size) {
    byte[] bytes = new byte[size];
    int i = 0;
    while (i < size) {
      int run = Math.min(size - i, 1 + random.nextInt(2000));
      if (random.nextBoolean()) {
        byte[] noise = new byte[run];
        random.nextBytes(noise);
        System.arraycopy(noise, 0, bytes, i, run);
      } else {
        byte[] text = ("row," + random.nextInt(100) + ",text\n").getBytes(StandardCharsets.UTF_8);
        for (int j = 0; j < run; j++) {
          bytes[i + j] = text[j % text.length];
        }
      }
      i += run;
    }
    return bytes;
  }

  /** What the decoder made of a stream pushed in pieces, and what it said of itself at the end. */
  private record Decoded(byte[] plain, GzipDecoder.Position end, int members) {}

  /** Pushes {@code gz} in pieces of random sizes (single bytes included), then finishes. */
  private static Decoded decode(byte[] gz, Random random) throws IOException {
    Collector out = new Collector();
    try (GzipDecoder decoder = new GzipDecoder(out, OUTPUT)) {
      int at = 0;
      while (at < gz.length) {
        int piece = random.nextInt(4) == 0 ? 1 : 1 + random.nextInt(Math.min(gz.length - at, 5000));
        piece = Math.min(piece, gz.length - at);
        decoder.feed(Arrays.copyOfRange(gz, at, at + piece), 0, piece); // its own array each time
        at += piece;
        assertEquals(at, decoder.position().compressed(), "every byte pushed is consumed");
        assertEquals(out.size(), decoder.position().plain(), "every byte made went to the sink");
      }
      decoder.finish();
      assertTrue(decoder.atMemberEnd());
      assertEquals(decoder.position(), decoder.lastMemberEnd());
      return new Decoded(out.toByteArray(), decoder.position(), decoder.members());
    }
  }

  private static GzipException failure(byte[] gz) {
    return assertThrows(
        GzipException.class,
        () -> {
          try (GzipDecoder decoder = new GzipDecoder(new Collector(), OUTPUT)) {
            decoder.feed(gz, 0, gz.length);
            decoder.finish();
          }
        });
  }

  @Test
  void oneMemberDecodesWhateverItsPieces() throws IOException {
    for (long seed = 1; seed <= 30; seed++) {
      Random random = new Random(seed);
      byte[] plain =
          plain(random, random.nextInt(4) == 0 ? random.nextInt(10) : random.nextInt(300_000));
      byte[] gz = Gzip.member(plain, 0, plain.length, random.nextInt(10), Gzip.header(random));
      Decoded decoded = decode(gz, random);
      assertArrayEquals(plain, decoded.plain(), "seed " + seed);
      assertEquals(new GzipDecoder.Position(gz.length, plain.length), decoded.end());
      assertEquals(1, decoded.members());
    }
  }

  @Test
  void severalMembersDecodeAsOneStreamWhateverThePieces() throws IOException {
    for (long seed = 1; seed <= 30; seed++) {
      Random random = new Random(seed);
      byte[] plain = plain(random, random.nextInt(200_000));
      int members = 1 + random.nextInt(12);
      byte[] gz = Gzip.members(plain, members, seed);
      Decoded decoded = decode(gz, random);
      assertArrayEquals(plain, decoded.plain(), "seed " + seed);
      assertEquals(new GzipDecoder.Position(gz.length, plain.length), decoded.end());
      assertEquals(members, decoded.members(), "seed " + seed);
    }
  }

  @Test
  void whatTheJdkWritesDecodesToo() throws IOException {
    byte[] plain = plain(new Random(5), 100_000);
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    for (int i = 0; i < 2; i++) { // two members, as cat a.gz b.gz makes
      try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
        out.write(plain);
      }
    }
    Decoded decoded = decode(gz.toByteArray(), new Random(6));
    byte[] twice = Arrays.copyOf(plain, 2 * plain.length);
    System.arraycopy(plain, 0, twice, plain.length, plain.length);
    assertArrayEquals(twice, decoded.plain());
    assertEquals(2, decoded.members());
  }

  @Test
  void everyOptionalHeaderFieldIsReadEvenOneByteAtATime() throws IOException {
    byte[] plain = "id,name\n1,Ada\n".getBytes(StandardCharsets.UTF_8);
    byte[] extra = new byte[300];
    new Random(3).nextBytes(extra);
    Gzip.Header all = new Gzip.Header("sales.csv", extra, "exported by hand", true);
    byte[] gz = Gzip.member(plain, 0, plain.length, 6, all);
    Collector out = new Collector();
    try (GzipDecoder decoder = new GzipDecoder(out)) {
      for (byte b : gz) {
        decoder.feed(ByteBuffer.wrap(new byte[] {b}));
      }
      decoder.finish();
    }
    assertArrayEquals(plain, out.toByteArray());
    for (Gzip.Header one :
        new Gzip.Header[] {
          new Gzip.Header("n.csv", null, null, false),
          new Gzip.Header(null, new byte[0], null, false),
          new Gzip.Header(null, null, "", false),
          new Gzip.Header(null, null, null, true)
        }) {
      assertArrayEquals(
          plain, decode(Gzip.member(plain, 0, plain.length, 1, one), new Random(1)).plain());
    }
  }

  @Test
  void aWrongHeaderCrcFails() {
    byte[] plain = "a\n1\n".getBytes(StandardCharsets.UTF_8);
    byte[] gz = Gzip.member(plain, 0, plain.length, 6, new Gzip.Header("x", null, null, true));
    gz[10] ^= 0x01; // the letter of the name, covered by the header CRC
    assertTrue(failure(gz).getMessage().contains("header CRC"));
  }

  @Test
  void truncatedAtEveryByteFailsButAtAMemberEnd() throws IOException {
    byte[] plain = "id,name\n1,Ada\n2,Grace\n".getBytes(StandardCharsets.UTF_8);
    byte[] first = Gzip.member(plain, 0, 10, 6, new Gzip.Header("a.csv", new byte[3], "c", true));
    byte[] second = Gzip.member(plain, 10, plain.length, 0, Gzip.Header.BARE);
    byte[] gz = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, gz, first.length, second.length);
    for (int cut = 0; cut < gz.length; cut++) {
      byte[] prefix = Arrays.copyOf(gz, cut);
      if (cut == first.length) {
        assertArrayEquals(
            Arrays.copyOf(plain, 10), decode(prefix, new Random(cut)).plain(), "a whole member");
        continue;
      }
      GzipException e = failure(prefix);
      assertTrue(
          e.getMessage()
              .startsWith(
                  "the gzip stream ends before its end: truncated after "
                      + cut
                      + " compressed bytes"),
          cut + ": " + e.getMessage());
    }
  }

  @Test
  void aBadCrcOrLengthInTheTrailerFails() {
    byte[] plain = plain(new Random(8), 5000);
    byte[] crc = Gzip.member(plain, 0, plain.length, 6, Gzip.Header.BARE);
    crc[crc.length - 8] ^= 0x40;
    assertTrue(failure(crc).getMessage().contains("fails its CRC-32 check"));
    byte[] length = Gzip.member(plain, 0, plain.length, 6, Gzip.Header.BARE);
    length[length.length - 4] ^= 0x01;
    assertTrue(failure(length).getMessage().contains("gives its length as"));
    byte[] data = Gzip.member(plain, 0, plain.length, 0, Gzip.Header.BARE); // stored: bytes as is
    data[100] ^= 0x01;
    assertTrue(failure(data).getMessage().contains("fails its CRC-32 check"));
  }

  @Test
  void corruptDeflateDataFails() {
    byte[] plain = plain(new Random(9), 5000);
    byte[] gz = Gzip.member(plain, 0, plain.length, 6, Gzip.Header.BARE);
    gz[10] = 0x07; // a final block of type 3, which deflate does not have
    GzipException e = failure(gz);
    assertTrue(e.getMessage().startsWith("the gzip stream is corrupt"), e.getMessage());
    assertTrue(e.getMessage().contains("invalid deflate data"), e.getMessage());
  }

  @Test
  void aBadMagicOrMethodOrFlagFails() {
    byte[] csv = "id,name\n1,Ada\n".getBytes(StandardCharsets.UTF_8);
    assertTrue(failure(csv).getMessage().startsWith("not a gzip stream"));
    byte[] method = Gzip.of(csv);
    method[2] = 7;
    assertTrue(failure(method).getMessage().contains("compression method 7"));
    byte[] flags = Gzip.of(csv);
    flags[3] = (byte) 0x20;
    assertTrue(failure(flags).getMessage().contains("reserved header flags"));
  }

  @Test
  void bytesAfterAMemberMustBeAnotherMember() {
    byte[] csv = "id\n1\n".getBytes(StandardCharsets.UTF_8);
    byte[] gz = Gzip.of(csv);
    byte[] garbage = Arrays.copyOf(gz, gz.length + 3);
    garbage[gz.length] = 'x';
    GzipException e = failure(garbage);
    assertTrue(e.getMessage().contains("trailing garbage"), e.getMessage());
    assertTrue(e.getMessage().contains("from compressed byte " + gz.length), e.getMessage());
    byte[] zeros = Arrays.copyOf(gz, gz.length + 4); // padding, as tape tools add
    assertTrue(failure(zeros).getMessage().contains("trailing garbage"));
    byte[] half = Arrays.copyOf(gz, gz.length + 1);
    half[gz.length] = 0x1f; // looks like the start of a member, then ends
    assertTrue(failure(half).getMessage().contains("truncated after " + (gz.length + 1)));
  }

  @Test
  void emptyMembersAndAnEmptyStream() throws IOException {
    byte[] csv = "id\n1\n".getBytes(StandardCharsets.UTF_8);
    byte[] empty = Gzip.member(csv, 0, 0, 6, Gzip.Header.BARE);
    byte[] one = Gzip.of(csv);
    byte[] gz = new byte[empty.length * 3 + one.length];
    System.arraycopy(empty, 0, gz, 0, empty.length);
    System.arraycopy(one, 0, gz, empty.length, one.length);
    System.arraycopy(empty, 0, gz, empty.length + one.length, empty.length);
    System.arraycopy(empty, 0, gz, 2 * empty.length + one.length, empty.length);
    Decoded decoded = decode(gz, new Random(2));
    assertArrayEquals(csv, decoded.plain());
    assertEquals(4, decoded.members());
    assertEquals(0, decode(empty, new Random(3)).plain().length);
    assertEquals(
        "the gzip stream ends before its end: truncated after 0 compressed bytes",
        failure(new byte[0]).getMessage());
  }

  @Test
  void aBudgetBoundsWhatOneCallMakes() throws IOException {
    byte[] zeros = new byte[20 << 20];
    byte[] gz = Gzip.member(zeros, 0, zeros.length, Deflater.BEST_COMPRESSION, Gzip.Header.BARE);
    assertTrue(gz.length < 64 << 10, "a small bomb: " + gz.length);
    long[] largestPiece = {0};
    long[] total = {0};
    GzipDecoder.Sink sink =
        plain -> {
          largestPiece[0] = Math.max(largestPiece[0], plain.remaining());
          total[0] += plain.remaining();
        };
    try (GzipDecoder decoder = new GzipDecoder(sink)) {
      ByteBuffer in = ByteBuffer.wrap(gz);
      int calls = 0;
      while (in.hasRemaining()) {
        long made = decoder.feed(in, 1 << 20);
        assertTrue(made <= (1 << 20) + GzipDecoder.DEFAULT_OUTPUT_SIZE, "one call made " + made);
        assertEquals(in.position(), decoder.position().compressed());
        calls++;
      }
      decoder.finish();
      assertTrue(calls >= 19, "stopped " + calls + " times");
    }
    assertEquals(zeros.length, total[0]);
    assertTrue(largestPiece[0] <= GzipDecoder.DEFAULT_OUTPUT_SIZE);
  }

  @Test
  void aFailingSinkEndsTheDecoderAndVertxBuffersAreTaken() throws IOException {
    byte[] csv = "id\n1\n".getBytes(StandardCharsets.UTF_8);
    Collector out = new Collector();
    try (GzipDecoder decoder = new GzipDecoder(out)) {
      decoder.feed(Buffer.buffer(Gzip.of(csv)));
      decoder.finish();
      assertThrows(IllegalStateException.class, () -> decoder.feed(new byte[1], 0, 1));
    }
    assertArrayEquals(csv, out.toByteArray());
    GzipDecoder failing =
        new GzipDecoder(
            plain -> {
              throw new IOException("disk full");
            });
    assertThrows(IOException.class, () -> failing.feed(Gzip.of(csv), 0, Gzip.of(csv).length));
    IllegalStateException after =
        assertThrows(IllegalStateException.class, () -> failing.feed(new byte[1], 0, 1));
    assertTrue(after.getMessage().contains("disk full"), after.getMessage());
    assertFalse(failing.atMemberEnd());
  }

  /** A sink that keeps what it is given. */
  private static final class Collector extends ByteArrayOutputStream implements GzipDecoder.Sink {
    @Override
    public void accept(ByteBuffer plain) {
      byte[] piece = new byte[plain.remaining()];
      plain.get(piece);
      assertTrue(piece.length <= GzipDecoder.DEFAULT_OUTPUT_SIZE);
      writeBytes(piece);
    }
  }
}
