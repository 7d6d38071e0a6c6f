package dev.tsm.importing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.buffers.ArrayPool;
import dev.tsm.csv.CsvDialect;
import dev.tsm.csv.CsvLimits;
import dev.tsm.csv.Growth;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch is bounded by its limits whatever the file holds: bad rows count like good ones, and
 * under the fail policy nothing past the first bad row is read.
 */
class BatchReaderTest {
  private static final CsvLimits LIMITS = new CsvLimits(1 << 10, 4 << 10, 16);
  private static final CsvDialect DIALECT = new CsvDialect((byte) ',', false);
  private static final int MAX_ROWS = 500;
  private static final int MAX_BYTES = 16 << 10;

  @TempDir Path dir;

  @Test
  void aFloodOfBadRowsIsCutIntoBoundedBatches() throws IOException {
    // One good row, then 200,000 rows with one field where two are expected.
    Path file = write("1,a\n" + "x\n".repeat(200_000));
    long batches = 0;
    long rejects = 0;
    long good = 0;
    try (BatchReader reader = reader(file, false)) {
      long start = 0;
      for (Batch b = reader.next(); b != null; b = reader.next()) {
        batches++;
        assertTrue(b.rows() + b.rejects().size() <= MAX_ROWS, "rows and rejects per batch");
        assertTrue(b.endOffset() - start <= MAX_BYTES + LIMITS.maxRecordBytes(), "bytes per batch");
        rejects += b.rejects().size();
        good += b.rows();
        start = b.endOffset();
      }
      assertEquals(Files.size(file), start, "the whole file was read");
    }
    assertEquals(1, good);
    assertEquals(200_000, rejects);
    assertTrue(batches >= 200_000 / MAX_ROWS, "batches: " + batches);
  }

  @Test
  void wideBadRowsAreBoundedByBytesNotOnlyRows() throws IOException {
    // Rows of ~900 bytes with the wrong field count: the byte limit ends the batch.
    Random random = new Random(7);
    StringBuilder csv = new StringBuilder();
    for (int i = 0; i < 2_000; i++) {
      csv.append("y".repeat(800 + random.nextInt(100))).append('\n');
    }
    Path file = write(csv.toString());
    try (BatchReader reader = reader(file, false)) {
      long start = 0;
      for (Batch b = reader.next(); b != null; b = reader.next()) {
        assertTrue(b.endOffset() - start <= MAX_BYTES + 1_000, "bytes per batch");
        assertTrue(b.rejects().size() <= MAX_BYTES / 800 + 1, "rejects: " + b.rejects().size());
        start = b.endOffset();
      }
    }
  }

  @Test
  void underTheFailPolicyTheBatchEndsAtTheFirstBadRow() throws IOException {
    String head = "1,a\n2,b\n";
    Path file = write(head + "bad\n" + "x\n".repeat(100_000));
    try (BatchReader reader = reader(file, true)) {
      Batch b = reader.next();
      assertEquals(2, b.rows());
      assertEquals(1, b.rejects().size());
      assertEquals(3, b.rejects().get(0).line());
      assertEquals("bad", b.rejects().get(0).record());
      assertEquals(head.length() + "bad\n".length(), b.endOffset(), "nothing after it was read");
    }
  }

  @Test
  void aFileOfGoodRowsEndsWithNull() throws IOException {
    Path file = write("1,a\n".repeat(1_200));
    int rows = 0;
    try (BatchReader reader = reader(file, true)) {
      for (Batch b = reader.next(); b != null; b = reader.next()) {
        assertTrue(b.rejects().isEmpty());
        rows += b.rows();
      }
      assertNull(reader.next());
    }
    assertEquals(1_200, rows);
  }

  private Path write(String content) throws IOException {
    Path file = dir.resolve("f.csv");
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void arraysHandedBackAreReusedWithoutMixingBatches() throws IOException {
    // Random rows, a few with a field near its limit: every batch fits its array.
    Path file = write(rows(11, 20_000, 50, 900, 1_024, 40));
    Set<byte[]> arrays = readTwoInFlight(file, LIMITS);
    assertTrue(arrays.size() <= 3, "arrays were reused: " + arrays.size());
  }

  @Test
  void aBatchThatOutgrowsItsArrayIsReadWholeAndItsArrayNotKept() throws IOException {
    // Records of up to 8 KB, half a batch's limit: a batch often ends past its array's size (an
    // eighth over the limit), grows, and hands back an array of another size.
    CsvLimits wide = new CsvLimits(8 << 10, 8 << 10, 16);
    Path file = write(rows(12, 3_000, 3, 6_000, 8_000, 200));
    Set<byte[]> arrays = readTwoInFlight(file, wide);
    int size = MAX_BYTES + (MAX_BYTES >> 3);
    long grown = arrays.stream().filter(a -> a.length != size).count();
    assertTrue(grown > 10, "batches that outgrew their array: " + grown);
    // Each grown batch took an array of the pool's size that did not come back; no more than that.
    long kept = arrays.size() - grown;
    assertTrue(kept <= grown + 3, "arrays of the pool's size: " + kept + ", grown " + grown);
  }

  /**
   * {@code count} rows "number,text" from {@code seed}: one in {@code oneIn} with a text of {@code
   * longFrom} to {@code longTo} bytes, the others shorter than {@code shortTo}.
   */
  private static String rows(
      long seed, int count, int oneIn, int longFrom, int longTo, int shortTo) {
    Random random = new Random(seed);
    StringBuilder csv = new StringBuilder();
    for (int i = 0; i < count; i++) {
      int length =
          random.nextInt(oneIn) == 0
              ? longFrom + random.nextInt(longTo - longFrom)
              : random.nextInt(shortTo);
      csv.append(i).append(',').append("v".repeat(length)).append('\n');
    }
    return csv.toString();
  }

  /**
   * Reads the file as a run does, two batches in flight, each handed back once written; checks that
   * the batches reassemble the file and returns the arrays they used.
   */
  private Set<byte[]> readTwoInFlight(Path file, CsvLimits limits) throws IOException {
    ArrayPool buffers = BatchReader.arrays(MAX_BYTES, 2);
    ByteArrayOutputStream loaded = new ByteArrayOutputStream();
    ArrayDeque<Batch> inFlight = new ArrayDeque<>();
    ArrayDeque<byte[]> asRead = new ArrayDeque<>();
    Set<byte[]> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
    try (BatchReader reader = reader(file, true, buffers, limits)) {
      for (Batch b = reader.next(); b != null; b = reader.next()) {
        assertTrue(b.rejects().isEmpty(), "no bad rows: " + b.rejects());
        arrays.add(b.data());
        inFlight.add(b);
        asRead.add(Arrays.copyOf(b.data(), b.starts()[b.rows()]));
        if (inFlight.size() == 2) { // two batches written side by side, as in a run
          written(inFlight.poll(), asRead.poll(), loaded, buffers);
        }
      }
      while (!inFlight.isEmpty()) {
        written(inFlight.poll(), asRead.poll(), loaded, buffers);
      }
    }
    assertArrayEquals(Files.readAllBytes(file), loaded.toByteArray());
    return arrays;
  }

  /** A batch's bytes are still those it was read with when it is handed back. */
  private static void written(
      Batch b, byte[] asRead, ByteArrayOutputStream loaded, ArrayPool buffers) {
    byte[] now = Arrays.copyOf(b.data(), b.starts()[b.rows()]);
    assertArrayEquals(asRead, now, "batch ending at " + b.endOffset() + " was overwritten");
    loaded.writeBytes(now);
    buffers.give(b.data());
  }

  private static BatchReader reader(Path file, boolean stopAtBadRow) throws IOException {
    return reader(file, stopAtBadRow, BatchReader.arrays(MAX_BYTES, 2), LIMITS);
  }

  private static BatchReader reader(
      Path file, boolean stopAtBadRow, ArrayPool buffers, CsvLimits limits) throws IOException {
    return new BatchReader(
        file, Growth.WHOLE, 0, 1, DIALECT, limits, 2, MAX_ROWS, MAX_BYTES, buffers, stopAtBadRow);
  }
}
