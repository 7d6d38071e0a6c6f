package dev.tsm.importing;

import dev.tsm.Config;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.CsvShape;
import dev.tsm.support.CsvShapes;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Imports of generated CSV shapes ({@link CsvShapes}), each compared with {@code psql \copy} of the
 * same file's good rows: row counts on both sides of every limit of the test profile, row widths up
 * to the field limit, quoting, line ends, a BOM and multi-byte characters across the scanner's read
 * windows, and bad rows first, last, in runs and everywhere under each error policy. Every shape
 * goes through every way a body arrives (whole, growing with pauses of the client, chunked,
 * multipart), side by side, each import paused and resumed (at once, then at a random row).
 *
 * <p>A fixed list of cases runs first, then random ones for {@code -Dexplore.seconds} (default 60;
 * 0 for none). A failure names its case; {@code -Dexplore.seed=family/seed} replays it alone
 * ({@code -Dexplore.arrivals=GROWING,CHUNKED} narrows it to some ways of arriving).
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportExploreTest {
  /** ImportService.FOLLOW_FROM: a body of declared length over this loads while it arrives. */
  private static final long FOLLOW_FROM = 1 << 20;

  /** CsvScanner.READ_SIZE: the scanner reads a file in windows of this many bytes. */
  private static final int SCAN_WINDOW = 1 << 18;

  /** Each limit from both sides, and each feature, once. */
  private static final List<String> FIXED =
      List.of(
          "sample-rows-below/3",
          "sample-rows-at/5",
          "sample-rows-above/12",
          "batch-rows-below/7",
          "batch-rows-at/12",
          "batch-rows-above/2",
          "batch-bytes-below/5",
          "batch-bytes-at/7",
          "batch-bytes-above/11",
          "follow-from-below/1",
          "follow-from-at/4",
          "follow-from-above/10",
          "follow-few-rows/3",
          "wide-few-rows/10",
          "wide-few-rows/5",
          "wide-few-rows/2",
          "field-limit/3",
          "widths/8",
          "one-column/1194",
          "edges/1",
          "bad-skip/7",
          "bad-fail/4",
          "max-errors/3",
          "max-errors/7",
          "max-body-at/2",
          "max-body-over/10",
          "max-columns-at/4",
          "max-columns-over/2",
          "stored-rejects-below/1",
          "stored-rejects-at/1",
          "stored-rejects-above/1");

  @Inject Config config;

  @TestFactory
  Stream<DynamicTest> explore() {
    String only = System.getProperty("explore.seed");
    if (only != null && !only.isBlank()) {
      return Arrays.stream(only.split(","))
          .map(String::trim)
          .map(id -> DynamicTest.dynamicTest(id, () -> runCase(id)));
    }
    long seconds = Long.getLong("explore.seconds", 60);
    Random seeds = new Random();
    AtomicReference<Long> deadline = new AtomicReference<>();
    Stream<String> random =
        Stream.generate(() -> "random/" + seeds.nextLong())
            .takeWhile(
                id -> {
                  // The random part's clock starts when the fixed part is done.
                  deadline.compareAndSet(null, System.nanoTime() + seconds * 1_000_000_000L);
                  return System.nanoTime() < deadline.get();
                });
    return Stream.concat(FIXED.stream(), random)
        .map(id -> DynamicTest.dynamicTest(id, () -> runCase(id)));
  }

  private CsvShapes.Limits limits() {
    Config.Import i = config.importing();
    return new CsvShapes.Limits(
        i.sampleRows(),
        i.sampleBytes().asLongValue(),
        FOLLOW_FROM,
        i.batchRows(),
        (int) i.batchBytes().asLongValue(),
        (int) i.maxFieldSize().asLongValue(),
        i.maxColumns(),
        i.maxBodySize().asLongValue(),
        SCAN_WINDOW,
        i.maxStoredRejects());
  }

  // ---- One case: a shape through every way of arriving, side by side ------------------------

  private void runCase(String id) throws Exception {
    CsvShape shape = CsvShapes.generate(id, limits());
    System.out.println("[explore] " + shape.summary());
    String base = ExploreRun.baseName(shape);
    String reference = null;
    if ("COMPLETED".equals(shape.outcome().state())) {
      reference = "ref_" + base;
      ExploreRun.loadReference(shape, reference, shape.good().size());
    }
    List<ExploreRun.Arrival> arrivals = arrivals();
    ExecutorService pool = Executors.newFixedThreadPool(2 * arrivals.size());
    Map<ExploreRun.Arrival, Future<String>> runs = new LinkedHashMap<>();
    try {
      for (ExploreRun.Arrival arrival : arrivals) {
        String ref = reference;
        int batchRows = config.importing().batchRows();
        runs.put(
            arrival, pool.submit(() -> new ExploreRun(shape, arrival, ref, pool, batchRows).run()));
      }
      List<String> failures = new ArrayList<>();
      for (var run : runs.entrySet()) {
        try {
          System.out.println("[explore]   " + run.getValue().get(5, TimeUnit.MINUTES));
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          String message = run.getKey() + ": " + cause;
          System.out.println("[explore]   FAILED " + message);
          failures.add(message);
        } catch (TimeoutException e) {
          failures.add(run.getKey() + ": still running after 5 minutes");
        }
      }
      if (!failures.isEmpty()) {
        Path kept = CsvFiles.write("explore-" + base + ".csv", shape.body());
        String replay =
            "./mvnw -B verify -DskipITs -Dtest=ImportExploreTest"
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dexplore.seed="
                + id;
        System.out.println("[explore]   replay: " + replay);
        throw new AssertionError(
            "case "
                + shape.summary()
                + "\n  "
                + String.join("\n  ", failures)
                + "\n  file kept as "
                + kept
                + "\n  replay: "
                + replay);
      }
      if (reference != null) {
        Db.execute("DROP TABLE " + reference);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<ExploreRun.Arrival> arrivals() {
    String only = System.getProperty("explore.arrivals");
    if (only == null || only.isBlank()) {
      return List.of(ExploreRun.Arrival.values());
    }
    return Arrays.stream(only.split(","))
        .map(a -> ExploreRun.Arrival.valueOf(a.trim().toUpperCase(Locale.ROOT)))
        .toList();
  }
}
