package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Db;
import dev.tsm.support.GeneratedCsv;
import dev.tsm.support.HttpUpload;
import dev.tsm.support.HttpUpload.Answer;
import dev.tsm.support.ItDatabase;
import dev.tsm.support.ItFixture;
import dev.tsm.support.ProcessMemory;
import dev.tsm.support.ServiceProcess;
import dev.tsm.support.TaskTable;
import dev.tsm.support.Waits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged service with a small heap ({@code -Xmx192m}) given what breaks services: files of
 * few very wide rows or of huge numbers, a gigabyte of good rows, and a gigabyte of bad rows under
 * each error policy, every one beside a small import that must still complete. Each ends in a clear
 * answer within a bounded time; the service's resident memory stays under {@value #RSS_BOUND_MIB}
 * MiB (heap 192 MiB, plus metaspace, code, thread stacks and direct buffers) and it never logs an
 * OutOfMemoryError. The large bodies are generated while they are sent: nothing of them is kept in
 * memory or on disk by the test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SmallHeapIT {
  private static final List<String> JVM = List.of("-Xmx192m");
  private static final long RSS_BOUND_MIB = 450;
  private static final long GIB = 1L << 30;
  private static final long ANSWER_MILLIS = 60_000;
  private static final Duration SMALL_IMPORT = Duration.ofSeconds(90);

  @RegisterExtension static final ItFixture it = new ItFixture("SmallHeapIT");

  private static ItDatabase db;
  private static TaskTable tasks;
  private static ServiceProcess service;
  private static ProcessMemory memory;
  private static final List<String> peaks = new ArrayList<>();
  private static final List<Path> logs = new ArrayList<>();
  private static long peakMiB;
  private static final ExecutorService pool = Executors.newCachedThreadPool();
  private static int smallImports;

  @BeforeAll
  static void setUp() {
    db = it.db();
    tasks = it.tasks();
  }

  @AfterAll
  static void tearDown() {
    stopService();
    pool.shutdownNow();
  }

  /** The service, started again if an earlier case left it dead or deaf. */
  private static ServiceProcess service() {
    if (service != null && service.isAlive() && service.readyStatus() == 200) {
      return service;
    }
    if (service != null) {
      System.out.printf(
          "[SmallHeapIT] %s is %s: starting another%n",
          service, service.isAlive() ? "not ready" : "dead (exit " + service.exitValue() + ")");
      stopService();
    }
    service = ServiceProcess.startReady("small-heap", db.serviceEnv(), JVM);
    memory = ProcessMemory.watch(service.pid());
    logs.add(service.logFile());
    System.out.printf(
        "[SmallHeapIT] %s up in %d ms, RSS %d MiB%n",
        service, service.startupTime().toMillis(), memory.currentMiB());
    return service;
  }

  private static void stopService() {
    if (service == null) {
      return;
    }
    long peak = memory.peakMiB();
    peakMiB = Math.max(peakMiB, peak);
    peaks.add(service.name() + ": peak RSS " + peak + " MiB");
    memory.close();
    service.close();
    service = null;
  }

  // ---- The cases ------------------------------------------------------------------------------

  /** Few rows over 1 MiB (fewer than the type sample) and huge numbers: each is answered. */
  @Test
  @Order(1)
  void wideRowsAndHugeNumbersGetClearAnswers() throws Exception {
    ServiceProcess svc = service();
    long logStart = logLength(svc);
    Map<String, GeneratedCsv.Wide> cases = new LinkedHashMap<>();
    cases.put("rows_500_of_2400", new GeneratedCsv.Wide(500, 2400, false));
    cases.put("rows_300_of_10k", new GeneratedCsv.Wide(300, 10_000, false));
    cases.put("rows_3_of_600k", new GeneratedCsv.Wide(3, 600_000, false));
    cases.put("digits_40_of_200k", new GeneratedCsv.Wide(40, 200_000, true));
    Map<String, Future<Answer>> answers = new LinkedHashMap<>();
    long begun = System.nanoTime();
    for (var c : cases.entrySet()) {
      answers.put(c.getKey(), upload(svc, "table=" + c.getKey(), c.getValue()));
    }
    String small = smallImport(svc);
    List<String> failures = new ArrayList<>();
    for (var c : cases.entrySet()) {
      String table = c.getKey();
      try {
        String outcome = hostile(table, answers.get(table), table.startsWith("digits") ? 40 : 0);
        System.out.printf(
            "[SmallHeapIT] %s (%d bytes): %s after %d ms%n",
            table, c.getValue().length(), outcome, (System.nanoTime() - begun) / 1_000_000);
      } catch (AssertionError | Exception e) {
        System.out.printf("[SmallHeapIT] %s FAILED: %s%n", table, e.getMessage());
        failures.add(e.getMessage());
      }
    }
    awaitSmallImport(small, failures);
    assertNoOutOfMemoryError(svc, logStart, failures);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  /**
   * A wide-row case is answered (202) within a minute of its last byte and completes with all its
   * rows; the huge numbers either complete as well or fail naming line 2 (no PostgreSQL numeric
   * holds 200,000 digits before the point).
   */
  private static String hostile(String table, Future<Answer> answer, int digitRows)
      throws Exception {
    Answer a = answerOf(answer, table);
    assertEquals(202, a.status(), "POST /imports of " + table + ": " + a.body());
    String id = a.json().getString("id");
    TaskTable.Row end = awaitEnd(id, Duration.ofSeconds(120));
    if (digitRows > 0 && end.is("FAILED")) {
      assertTrue(end.error().contains("line 2:"), "a failure names the first row, line 2: " + end);
      return "FAILED clearly: " + end.error().substring(0, Math.min(120, end.error().length()));
    }
    assertEquals("COMPLETED", end.state(), "state of " + table + ": " + end);
    long rows = Db.count("SELECT count(*) FROM public." + table);
    assertEquals(end.rowsDone(), rows, "rows in " + table);
    if (digitRows > 0) {
      assertEquals(digitRows, rows);
      assertEquals(
          digitRows,
          Db.count("SELECT count(*) FROM public." + table + " WHERE length(n::text) = 200000"),
          "the numbers arrive whole");
    }
    return "COMPLETED with " + rows + " rows";
  }

  /** A gigabyte of good rows, loaded while it arrives, equals what was sent. */
  @Test
  @Order(2)
  void aGigabyteOfGoodRowsEqualsWhatWasSent() throws Exception {
    ServiceProcess svc = service();
    long logStart = logLength(svc);
    GeneratedCsv.GoodRows body = GeneratedCsv.GoodRows.ofSize(GIB, 88);
    long begun = System.nanoTime();
    Future<Answer> answer = upload(svc, "table=good_gib", body);
    String id = awaitTaskOf("good_gib", answer);
    List<String> failures = new ArrayList<>();
    awaitSmallImport(smallImport(svc), failures);
    Answer a = answerOf(answer, "good_gib");
    long answered = System.nanoTime();
    assertEquals(202, a.status(), a.body());
    TaskTable.Row end = awaitEnd(id, Duration.ofMinutes(8));
    long done = System.nanoTime();
    assertEquals("COMPLETED", end.state(), end.toString());
    assertEquals(body.rows(), end.rowsDone());
    assertEquals("t", Db.single(body.checkQuery("public.good_gib")), "count, sum and each row");
    System.out.printf(
        "[SmallHeapIT] %d bytes, %d rows: answered after %d s, completed after %d s (%.0f MB/s),"
            + " RSS now %d MiB, peak %d MiB%n",
        body.length(),
        body.rows(),
        (answered - begun) / 1_000_000_000,
        (done - begun) / 1_000_000_000,
        body.length() / ((done - begun) / 1e9) / 1e6,
        memory.currentMiB(),
        memory.peakMiB());
    Db.execute("DROP TABLE public.good_gib");
    assertNoOutOfMemoryError(svc, logStart, failures);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  /** A gigabyte whose rows are bad from line 3 on fails at line 3 under onError=fail. */
  @Test
  @Order(3)
  void aGigabyteOfBadRowsFailsAtTheFirstOne() throws Exception {
    badGigabyte("bad_fail", "", "line 3:");
  }

  /** The same under onError=skip fails once more rows than maxErrors are bad. */
  @Test
  @Order(4)
  void aGigabyteOfBadRowsUnderSkipFailsPastMaxErrors() throws Exception {
    badGigabyte(
        "bad_skip", "&onError=skip&maxErrors=1000", "more than 1000 bad rows", "line 1003:");
  }

  /**
   * Under onError=skip with no maxErrors, the whole gigabyte is read: every bad row counted, only
   * the first ones stored, in batches whose memory the configuration bounds.
   */
  @Test
  @Order(5)
  void aGigabyteOfBadRowsUnderSkipIsReadThroughInBoundedMemory() throws Exception {
    ServiceProcess svc = service();
    long logStart = logLength(svc);
    GeneratedCsv.BadRows body = new GeneratedCsv.BadRows(GIB);
    long begun = System.nanoTime();
    Future<Answer> answer = upload(svc, "table=bad_skip_all&onError=skip", body);
    List<String> failures = new ArrayList<>();
    String small = smallImport(svc);
    String id = awaitTaskOf("bad_skip_all", answer);
    TaskTable.Row done = awaitEnd(id, Duration.ofMinutes(6));
    System.out.printf(
        "[SmallHeapIT] bad_skip_all: %s after %d s, %d bytes read; RSS now %d MiB, peak %d MiB%n",
        done.state(),
        (System.nanoTime() - begun) / 1_000_000_000,
        done.bytesDone(),
        memory.currentMiB(),
        memory.peakMiB());
    assertEquals("COMPLETED", done.state(), done.toString());
    assertEquals(1, done.rowsDone());
    assertEquals(body.length(), done.bytesDone());
    assertEquals(
        String.valueOf(body.length() / 16),
        Db.single("SELECT rows_skipped FROM tsm.task WHERE id = '" + id + "'"),
        "every bad row counted");
    assertEquals(
        "10000",
        Db.single("SELECT count(*) FROM tsm.task_reject WHERE task_id = '" + id + "'"),
        "stored up to tsm.import.max-stored-rejects");
    assertEquals(202, answerOf(answer, "bad_skip_all").status());
    awaitSmallImport(small, failures);
    Db.execute("DROP TABLE public.bad_skip_all");
    assertNoOutOfMemoryError(svc, logStart, failures);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  /**
   * The task fails within a minute naming the line, the request gets an answer, and the small
   * import beside it completes; each is checked even when another is not so.
   */
  private void badGigabyte(String table, String options, String... words) throws Exception {
    ServiceProcess svc = service();
    long logStart = logLength(svc);
    GeneratedCsv.BadRows body = new GeneratedCsv.BadRows(GIB);
    long begun = System.nanoTime();
    Future<Answer> answer = upload(svc, "table=" + table + options, body);
    List<String> failures = new ArrayList<>();
    String small = smallImport(svc);
    String id = awaitTaskOf(table, answer);
    TaskTable.Row failed = awaitEnd(id, Duration.ofSeconds(60));
    System.out.printf(
        "[SmallHeapIT] %s: %s after %d ms (%s); RSS now %d MiB, peak %d MiB%n",
        table,
        failed.state(),
        (System.nanoTime() - begun) / 1_000_000,
        failed.error(),
        memory.currentMiB(),
        memory.peakMiB());
    if (!failed.is("FAILED")) {
      failures.add(table + " ended " + failed + ", not FAILED");
    }
    for (String word : words) {
      if (failed.error() == null || !failed.error().contains(word)) {
        failures.add(table + ": the error '" + failed.error() + "' does not name " + word);
      }
    }
    try {
      Answer a = answerOf(answer, table);
      System.out.printf(
          "[SmallHeapIT] %s: answered %d after %d s%n",
          table, a.status(), (System.nanoTime() - begun) / 1_000_000_000);
      if (a.status() != 202 && (a.status() < 400 || a.status() >= 500)) {
        failures.add(table + ": no clear answer to POST /imports: " + a.status() + " " + a.body());
      }
    } catch (AssertionError e) {
      failures.add(e.getMessage());
    }
    awaitSmallImport(small, failures);
    // Its staged gigabyte goes with it.
    var terminate = svc.command(id, "terminate");
    if (terminate.statusCode() == 202) {
      tasks.awaitState(id, Duration.ofSeconds(60), "TERMINATED");
    } else {
      failures.add(table + ": terminate answered " + terminate.statusCode() + terminate.body());
    }
    assertNoOutOfMemoryError(svc, logStart, failures);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  /** Runs last: what the service's memory did through all of the above. */
  @Test
  @Order(6)
  void residentMemoryStayedBoundedAndNoOutOfMemoryError() throws IOException {
    stopService();
    System.out.printf(
        "[SmallHeapIT] peak RSS %d MiB with -Xmx192m (bound %d MiB): %s%n",
        peakMiB, RSS_BOUND_MIB, peaks);
    for (Path log : logs) {
      String text = Files.readString(log);
      assertTrue(!text.contains("OutOfMemoryError"), log + " logs an OutOfMemoryError");
    }
    assertTrue(
        peakMiB <= RSS_BOUND_MIB,
        "peak RSS " + peakMiB + " MiB over the bound of " + RSS_BOUND_MIB + " MiB: " + peaks);
  }

  // ---- Helpers --------------------------------------------------------------------------------

  /** Sends {@code body} with its length declared; the answer is read within a deadline. */
  private static Future<Answer> upload(ServiceProcess svc, String query, GeneratedCsv body) {
    return pool.submit(
        () -> {
          try (HttpUpload upload =
              HttpUpload.start(svc.port(), query, HttpUpload.Framing.LENGTH, body.length())) {
            sending.add(upload);
            try {
              body.writeTo(upload::send);
            } catch (IOException e) {
              // The service may answer before the body ended, then close.
              return upload.answer(ANSWER_MILLIS);
            }
            return upload.finish(ANSWER_MILLIS);
          } finally {
            sending.removeIf(HttpUpload::isClosed);
          }
        });
  }

  /** Uploads still going when a case ends, failed or not: they must not run into the next one. */
  private static final Set<HttpUpload> sending = ConcurrentHashMap.newKeySet();

  @AfterEach
  void stopUploads() {
    sending.forEach(HttpUpload::close);
    sending.clear();
  }

  private static Answer answerOf(Future<Answer> answer, String what) throws Exception {
    try {
      return answer.get(10, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      throw new AssertionError(what + ": no answer: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError(what + ": the body could not be sent within 10 minutes");
    }
  }

  /** The id of the task importing into {@code table}, once it exists. */
  private static String awaitTaskOf(String table, Future<Answer> answer) throws Exception {
    String sql = "SELECT id FROM tsm.task WHERE table_name = '" + table + "'";
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      String id = Db.single(sql);
      if (id != null) {
        return id;
      }
      if (answer.isDone()) {
        Answer a = answerOf(answer, table);
        throw new AssertionError("answered " + a.status() + " and no task: " + a.body());
      }
      Waits.pause(50); // the spacing of a poll that also watches the answer
    }
    throw new AssertionError("no task for " + table + " within 2 minutes");
  }

  private static TaskTable.Row awaitEnd(String id, Duration atMost) {
    return tasks.await(
        id,
        atMost,
        "ended",
        r -> r.is("COMPLETED") || r.is("FAILED") || r.is("TERMINATED"),
        r -> false);
  }

  /** Starts a small ordinary import beside the large one; returns its table. */
  private static String smallImport(ServiceProcess svc) throws IOException {
    String table = "small_" + (++smallImports);
    Path file = ItDatabase.csv("small-heap-2k.csv", 2000, 5);
    byte[] bytes = Files.readAllBytes(file);
    smallAnswers.put(table, upload(svc, "table=" + table, GeneratedCsv.of(bytes)));
    return table;
  }

  private static final Map<String, Future<Answer>> smallAnswers = new LinkedHashMap<>();

  /** The small import completed within {@value #SMALL_IMPORT}, or the failure says why not. */
  private static void awaitSmallImport(String table, List<String> failures) {
    long begun = System.nanoTime();
    try {
      Answer a = answerOf(smallAnswers.get(table), table);
      assertEquals(202, a.status(), a.body());
      TaskTable.Row end = awaitEnd(a.json().getString("id"), SMALL_IMPORT);
      assertEquals("COMPLETED", end.state(), end.toString());
      assertEquals(2000, end.rowsDone());
      System.out.printf(
          "[SmallHeapIT] beside it, the small import %s completed (%d ms after it was waited for)%n",
          table, (System.nanoTime() - begun) / 1_000_000);
    } catch (AssertionError | Exception e) {
      failures.add("the small import " + table + " beside it: " + e.getMessage());
    }
  }

  private static long logLength(ServiceProcess svc) {
    return svc.log().length();
  }

  private static void assertNoOutOfMemoryError(
      ServiceProcess svc, long from, List<String> failures) {
    String log = svc.log();
    if (log.substring((int) Math.min(from, log.length())).contains("OutOfMemoryError")) {
      failures.add(svc.logFile() + " logs an OutOfMemoryError");
    }
  }
}
