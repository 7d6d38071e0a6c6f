package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tsm.support.Db;
import dev.tsm.support.ItDatabase;
import dev.tsm.support.ItFixture;
import dev.tsm.support.ServiceProcess;
import dev.tsm.support.TaskTable;
import dev.tsm.support.Waits;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kill -9 at random points while a task runs, restart, repeat; the task still completes exactly
 * once: an import equals a psql \copy of the same file, an export's file is byte-identical to psql
 * \copy TO of the same table.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashIT {
  private static final int KILLS = 10;
  private static final int ROWS = 1_000_000;
  private static final Duration LEASE = Duration.ofSeconds(2);
  // Each kill is a crash of the task's owner: more than the default three must not fail the task.
  private static final String MAX_CRASHES = "TSM_RUNNER_MAX_CRASHES";
  private static final String ABOVE_KILLS = Integer.toString(KILLS + 1);

  @RegisterExtension static final ItFixture it = new ItFixture("CrashIT");

  private static ItDatabase db;
  private static TaskTable tasks;
  private static Random random;

  /** One kill and what followed it. */
  private record Kill(
      int n,
      long delayMillis,
      String stateAtKill,
      long rowsAtKill,
      Duration startup,
      Duration takeover,
      long rowsAtTakeover) {}

  @BeforeAll
  static void setUp() {
    db = it.db();
    tasks = it.tasks();
    long seed = Long.getLong("tsm.it.seed", System.nanoTime());
    random = new Random(seed);
    System.out.printf("[CrashIT] random seed %d (rerun with -Dtsm.it.seed=%d)%n", seed, seed);
  }

  /**
   * While killed: small batches with a pause after each, so that ten lives of at most two seconds
   * cannot finish the task. The last instance runs at full speed.
   */
  private static Map<String, String> slowImport() {
    return db.serviceEnv(
        "TSM_IMPORT_BATCH_ROWS", "5000", "TSM_RUNNER_THROTTLE", "200ms", MAX_CRASHES, ABOVE_KILLS);
  }

  private static Map<String, String> slowExport() {
    return db.serviceEnv(
        "TSM_EXPORT_BATCH_ROWS", "5000", "TSM_RUNNER_THROTTLE", "200ms", MAX_CRASHES, ABOVE_KILLS);
  }

  private static Map<String, String> fullSpeed() {
    return db.serviceEnv(MAX_CRASHES, ABOVE_KILLS);
  }

  @Test
  @Order(1)
  void importSurvivesRepeatedKills() {
    Path file = ItDatabase.csv("crash-1m.csv", ROWS, 42);
    ServiceProcess first = ServiceProcess.startReady("crash-import", slowImport());
    String id = first.startImport("crash_import", file);
    System.out.printf("[CrashIT] import %s of %s (%d bytes)%n", id, file, size(file));
    List<Kill> kills = new ArrayList<>();
    try (ServiceProcess last =
        completed(id, crash("crash-import", id, first, slowImport(), fullSpeed(), kills, KILLS))) {
      TaskTable.Row done = tasks.row(id);
      assertEquals(ROWS, done.rowsDone(), "rows done");
      assertEquals(0, Db.stagingTables().size(), "staging tables left: " + Db.stagingTables());
      assertTrue(
          Files.notExists(db.storage().resolve("imports").resolve(id + ".csv")),
          "the staged file is removed on completion");
    }
    report("import", kills);
    Db.copyReference("crash_import_ref", "public.crash_import", file, ", HEADER true");
    Db.assertSameRows("crash_import_ref", "public.crash_import");
  }

  @Test
  @Order(2)
  void exportSurvivesRepeatedKills() throws IOException {
    Db.execute(
        "CREATE TABLE crash_export (id bigint PRIMARY KEY, code text, amount numeric(12,2),"
            + " ratio double precision, active boolean, day date, at timestamp, name text)");
    Db.execute(
        "INSERT INTO crash_export SELECT i, lpad((i::bigint * 7919 % 100000)::text, 5, '0'),"
            + " CASE WHEN i % 20 = 0 THEN NULL ELSE (i % 100000 - 50000) / 100.0 END,"
            + " i / 7.0::float8, i % 3 = 0, date '2024-01-01' + i % 366,"
            + " timestamp '2024-03-01' + i * interval '1 second',"
            + " (ARRAY['Ada', 'Zoë', '東京', 'Smith, Jr.', 'say \"hi\"', E'two\\nlines', '',"
            + " NULL, 'plain text'])[1 + i % 9]"
            + " FROM generate_series(1, "
            + ROWS
            + ") i");
    Db.execute("ANALYZE crash_export");
    ServiceProcess first = ServiceProcess.startReady("crash-export", slowExport());
    String id = first.startExport("{\"table\": \"crash_export\"}");
    System.out.printf("[CrashIT] export %s of crash_export (%d rows)%n", id, ROWS);
    List<Kill> kills = new ArrayList<>();
    Path downloaded = db.storage().resolve("crash_export.download.csv");
    try (ServiceProcess last =
        completed(id, crash("crash-export", id, first, slowExport(), fullSpeed(), kills, KILLS))) {
      assertEquals(ROWS, tasks.row(id).rowsDone(), "rows done");
      assertTrue(
          Files.notExists(db.storage().resolve("exports").resolve(id + ".csv.part")),
          "no partial file is left");
      last.download(id, downloaded);
    }
    report("export", kills);
    Path reference = db.storage().resolve("crash_export.reference.csv");
    Db.psql(
        "\\copy (SELECT * FROM crash_export ORDER BY id) TO '"
            + reference
            + "' WITH (FORMAT csv, HEADER)");
    assertEquals(Files.size(reference), Files.size(downloaded), "size of the exported file");
    assertEquals(
        -1L,
        Files.mismatch(reference, downloaded),
        "the exported file differs from psql \\copy from byte "
            + Files.mismatch(reference, downloaded));
  }

  @Test
  @Order(3)
  void pausedTaskStaysPausedAcrossKill() {
    Path file = ItDatabase.csv("crash-100k.csv", 100_000, 11);
    String id;
    TaskTable.Row paused;
    try (ServiceProcess svc = ServiceProcess.startReady("crash-paused", slowImport())) {
      id = svc.startImport("crash_paused", file);
      tasks.awaitRows(id, Duration.ofSeconds(60), 10_000);
      HttpResponse<String> pause = svc.command(id, "pause");
      assertTrue(pause.statusCode() / 100 == 2, "pause: " + pause.statusCode() + pause.body());
      paused = tasks.awaitState(id, Duration.ofSeconds(30), "PAUSED");
      svc.kill();
    }
    System.out.printf("[CrashIT] paused at row %d, then killed -9%n", paused.rowsDone());
    try (ServiceProcess svc = ServiceProcess.startReady("crash-paused", fullSpeed())) {
      // Longer than a lease and two polls: nothing may claim a paused task.
      Waits.holdsFor(
          LEASE.plusSeconds(3),
          () -> {
            TaskTable.Row r = tasks.row(id);
            assertEquals("PAUSED", r.state(), "state after the restart");
            assertNull(r.owner(), "a paused task has no owner");
            assertEquals(paused.rowsDone(), r.rowsDone(), "a paused task does not move");
          });
      assertEquals("PAUSED", svc.json("/tasks/" + id).getString("state"));
      HttpResponse<String> resume = svc.command(id, "resume");
      assertTrue(resume.statusCode() / 100 == 2, "resume: " + resume.statusCode() + resume.body());
      tasks.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
    }
    Db.copyReference("crash_paused_ref", "public.crash_paused", file, ", HEADER true");
    Db.assertSameRows("crash_paused_ref", "public.crash_paused");
  }

  private static final String MIXED_COLUMNS =
      "(id integer PRIMARY KEY, code text, amount numeric, big bigint, active boolean, day date,"
          + " at timestamp, name text)";
  private static final int MODE_ROWS = 250_000;
  private static final int MODE_KILLS = 3;
  private static final Duration WAIT_READS = Duration.ofSeconds(30);

  /**
   * {@code crash_<mode>}, a table of the mixed shape keyed on id holding 100,000 rows as psql loads
   * them; returns a file of {@value #MODE_ROWS} rows to import into it (ids 1 to 250,000).
   */
  private static Path existing(String mode, long seed) {
    String table = "crash_" + mode;
    Path before = ItDatabase.csv("crash-" + mode + "-before.csv", 100_000, seed);
    Db.execute("CREATE TABLE " + table + " " + MIXED_COLUMNS);
    Db.psql(
        "\\copy " + table + " FROM '" + before.toAbsolutePath() + "' WITH (FORMAT csv, HEADER)");
    Db.execute("ANALYZE " + table);
    return ItDatabase.csv("crash-" + mode + "-250k.csv", MODE_ROWS, seed + 1);
  }

  /**
   * mode=replace killed three times while it loads, then once more inside the publishing
   * transaction (its DELETE half done, held there by a row lock the test takes on the last row it
   * scans); restarted, it completes with the new file's rows only. A reader polling all along sees
   * the old rows or the new ones, never a mix, an empty table or both.
   */
  @Test
  @Order(4)
  void replaceSurvivesKillsWhileLoadingAndPublishingAndReadersSeeOldOrNew() throws Exception {
    Path file = existing("replace", 7);
    Db.copyReference("crash_replace_ref", "public.crash_replace", file, ", HEADER true");
    loadModeSurvivesKills(
        "replace",
        file,
        Map.of("mode", "replace"),
        new Held("ORDER BY ctid DESC LIMIT 1", "DELETE FROM"));
  }

  /**
   * mode=upsert&key=id killed three times while it loads, then once inside the publishing
   * transaction (its INSERT ... ON CONFLICT half done, held by a row lock on a key the file
   * updates); restarted: the table equals psql's merge of the same file (\copy into a table, then
   * INSERT ... ON CONFLICT DO UPDATE), and a reader saw the rows before or after the merge, nothing
   * between.
   */
  @Test
  @Order(5)
  void upsertSurvivesKillsWhileLoadingAndPublishing() throws Exception {
    Path file = existing("upsert", 9);
    Db.execute("CREATE TABLE crash_upsert_ref " + MIXED_COLUMNS);
    Db.execute("INSERT INTO crash_upsert_ref SELECT * FROM crash_upsert");
    Db.copyReference("crash_upsert_in", "public.crash_upsert", file, ", HEADER true");
    Db.execute(
        "INSERT INTO crash_upsert_ref SELECT * FROM crash_upsert_in ON CONFLICT (id) DO UPDATE SET"
            + " code = EXCLUDED.code, amount = EXCLUDED.amount, big = EXCLUDED.big,"
            + " active = EXCLUDED.active, day = EXCLUDED.day, at = EXCLUDED.at,"
            + " name = EXCLUDED.name");
    loadModeSurvivesKills(
        "upsert",
        file,
        Map.of("mode", "upsert", "key", "id"),
        new Held("WHERE id = 90000", "INSERT INTO"));
  }

  /**
   * Where the test holds a publish: a row lock on the target's rows {@code rows} selects, which the
   * publish's statement starting with {@code statement} waits on.
   */
  private record Held(String rows, String statement) {}

  /**
   * Imports {@code file} into {@code crash_<mode>} with {@code params}, killing the instance
   * {@value #MODE_KILLS} times while it loads and once while its publish is {@code held}; then
   * compares the table with {@code crash_<mode>_ref} and what a reader saw all along with the rows
   * before and after.
   */
  private static void loadModeSurvivesKills(
      String mode, Path file, Map<String, String> params, Held held) throws Exception {
    String table = "crash_" + mode;
    String name = "crash-" + mode;
    Snapshot old = Snapshot.of(table);
    Snapshot fresh = Snapshot.of(table + "_ref");
    List<Kill> kills = new ArrayList<>();
    List<Snapshot> seen;
    try (Reader reader = new Reader(table)) {
      ServiceProcess first = ServiceProcess.startReady(name, slowImport());
      String id = first.startImport(table, file, params);
      ServiceProcess current =
          crash(name, id, first, slowImport(), slowImport(), kills, MODE_KILLS);
      try {
        current = killMidPublish(name, id, current, table, held, old);
        tasks.awaitState(id, Duration.ofMinutes(5), "COMPLETED");
        assertEquals(MODE_ROWS, tasks.row(id).rowsDone(), "rows done");
        assertEquals(0, Db.stagingTables().size(), "staging tables left: " + Db.stagingTables());
      } catch (RuntimeException | Error e) {
        closeAfter(current);
        throw e;
      }
      current.close();
      Waits.until(WAIT_READS, "the reader reading the new rows", () -> reader.saw(fresh) >= 3);
      seen = reader.stop();
    }
    report(mode, kills);
    Db.assertSameRows(table + "_ref", "public." + table);
    System.out.printf(
        "[CrashIT] %s: the reader read the table %d times: %d the rows before, %d after%n",
        mode,
        seen.size(),
        seen.stream().filter(old::equals).count(),
        seen.stream().filter(fresh::equals).count());
    for (Snapshot s : seen) {
      assertTrue(
          s.equals(old) || s.equals(fresh),
          "a reader saw " + s + ", neither " + old + " nor " + fresh);
    }
    assertEquals(old, seen.get(0), "readers saw the rows before first");
    assertEquals(fresh, Snapshot.of(table), "then the rows after");
  }

  /**
   * Lets the task load to its end while a test transaction holds a row lock on {@code target}'s
   * rows {@code held} names; the publish waits on it, half done. Then kill -9 the instance in that
   * transaction, release the rows, and restart at full speed. Returns the new instance.
   */
  private static ServiceProcess killMidPublish(
      String name, String id, ServiceProcess current, String target, Held held, Snapshot old)
      throws java.sql.SQLException {
    try (java.sql.Connection lock = it.db().pg().connect()) {
      lock.setAutoCommit(false);
      try (var s = lock.createStatement()) {
        s.execute("SELECT 1 FROM " + target + " " + held.rows() + " FOR SHARE");
      }
      Waits.until(
          Duration.ofMinutes(3),
          "the publish of " + id + " waiting in " + held.statement(),
          () -> {
            TaskTable.Row r = tasks.row(id);
            if (r.isFinal() || r.is("FAILED")) {
              throw new AssertionError("the task ended without waiting on the lock: " + r);
            }
            return Db.count(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND query LIKE '"
                        + held.statement()
                        + " %"
                        + target
                        + "%'")
                == 1;
          });
      assertEquals(old, Snapshot.of(target), "readers see the rows before while the publish waits");
      current.kill();
      TaskTable.Row killed = tasks.row(id);
      System.out.printf(
          "[CrashIT] %s killed -9 in its publishing transaction (%s half done): %s%n",
          name, held.statement(), killed);
      assertEquals("RUNNING", killed.state(), "nothing was published by the killed run");
      assertEquals(old, Snapshot.of(target), "readers see the rows before after the kill");
      lock.rollback(); // the dead run's session goes on to its end, and cannot commit
    }
    return ServiceProcess.startReady(name, fullSpeed());
  }

  /** How many rows a table holds and a checksum of them (in no order). */
  private record Snapshot(long rows, String checksum) {
    static final String SQL =
        "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM ";

    static Snapshot of(String table) {
      List<String> row = Db.rows(SQL + table + " t").get(0);
      return new Snapshot(Long.parseLong(row.get(0)), row.get(1));
    }
  }

  /** Reads a table's {@link Snapshot} over and over, on a connection of its own, until stopped. */
  private static final class Reader implements AutoCloseable {
    private final List<Snapshot> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    private final Thread thread;

    Reader(String table) {
      thread =
          new Thread(
              () -> {
                try (java.sql.Connection c = it.db().pg().connect();
                    var s = c.createStatement()) {
                  while (!stop.get()) {
                    try (var rs = s.executeQuery(Snapshot.SQL + table + " t")) {
                      rs.next();
                      seen.add(new Snapshot(rs.getLong(1), rs.getString(2)));
                    }
                    Thread.sleep(100); // a reader, not a load on the two cores
                  }
                } catch (Throwable e) {
                  failure.set(e);
                }
              },
              "reader-" + table);
      thread.start();
    }

    long saw(Snapshot s) {
      return seen.stream().filter(s::equals).count();
    }

    List<Snapshot> stop() throws InterruptedException {
      stop.set(true);
      thread.join(60_000);
      if (failure.get() != null) {
        throw new AssertionError("the reader failed", failure.get());
      }
      return List.copyOf(seen);
    }

    @Override
    public void close() {
      stop.set(true);
    }
  }

  /** Waits for the task to complete on {@code current}; returns it, which the caller closes. */
  private static ServiceProcess completed(String id, ServiceProcess current) {
    try {
      tasks.awaitState(id, Duration.ofMinutes(5), "COMPLETED");
    } catch (RuntimeException | Error e) {
      closeAfter(current);
      throw e;
    }
    return current;
  }

  /** Prints the last log lines of an instance a test gives up on, and closes it. */
  private static void closeAfter(ServiceProcess current) {
    System.out.println("[CrashIT] last log lines of " + current.name() + ":\n" + current.tail(30));
    current.close();
  }

  /**
   * kill -9 the instance running the task {@code count} times, each a random 0.3-2 s after the task
   * is RUNNING on it, restarting it each time ({@code slow}, the last time {@code fast}). Returns
   * the instance that took the task over after the last kill.
   */
  private static ServiceProcess crash(
      String name,
      String id,
      ServiceProcess first,
      Map<String, String> slow,
      Map<String, String> fast,
      List<Kill> kills,
      int count) {
    ServiceProcess current = first;
    try {
      tasks.awaitOwner(id, Duration.ofSeconds(60), current);
      while (kills.size() < count) {
        long delay = 300 + random.nextInt(1701);
        Waits.pause(delay); // a random moment of the run to kill it at: no condition
        TaskTable.Row before = tasks.row(id);
        if (before.isFinal() || before.is("FAILED")) {
          fail(
              "the task ended after only "
                  + kills.size()
                  + " kills ("
                  + before
                  + "): slow it down for the test");
        }
        current.kill();
        long killedAt = System.nanoTime();
        TaskTable.Row atKill = tasks.row(id);
        boolean last = kills.size() + 1 == count;
        ServiceProcess next = ServiceProcess.startReady(name, last ? fast : slow);
        current = next;
        TaskTable.Row claimed =
            tasks.await(
                id,
                Duration.ofSeconds(60),
                "taken over by " + next.name(),
                r -> r.is("RUNNING") && next.owns(r.owner()) || r.is("COMPLETED"),
                r -> r.is("FAILED") || r.is("TERMINATED"));
        Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
        Kill kill =
            new Kill(
                kills.size() + 1,
                delay,
                atKill.state(),
                atKill.rowsDone(),
                next.startupTime(),
                takeover,
                claimed.rowsDone());
        kills.add(kill);
        System.out.printf(
            "[CrashIT] %s kill #%d after %d ms: %s at row %d; restarted in %d ms; taken over %d ms"
                + " after the kill, from row %d%n",
            name,
            kill.n(),
            delay,
            kill.stateAtKill(),
            kill.rowsAtKill(),
            kill.startup().toMillis(),
            takeover.toMillis(),
            kill.rowsAtTakeover());
        assertTrue(
            claimed.rowsDone() >= atKill.rowsDone(), "the checkpoint never goes back: " + claimed);
      }
      return current;
    } catch (RuntimeException | Error e) {
      closeAfter(current);
      throw e;
    }
  }

  private static void report(String what, List<Kill> kills) {
    long[] takeovers = kills.stream().mapToLong(k -> k.takeover().toMillis()).sorted().toArray();
    long[] startups = kills.stream().mapToLong(k -> k.startup().toMillis()).sorted().toArray();
    System.out.printf(
        "[CrashIT] %s: %d kills; takeover after a kill (ms): min %d, median %d, max %d; of which"
            + " JVM start to ready (ms): min %d, median %d, max %d; all takeovers: %s%n",
        what,
        kills.size(),
        takeovers[0],
        takeovers[takeovers.length / 2],
        takeovers[takeovers.length - 1],
        startups[0],
        startups[startups.length / 2],
        startups[startups.length - 1],
        kills.stream().map(k -> k.takeover().toMillis() + "").toList());
    // The kill loop ends only after KILLS kills: what it does not check is what each kill struck.
    for (Kill k : kills) {
      assertEquals("RUNNING", k.stateAtKill(), "kill #" + k.n() + " struck a running task");
    }
    for (int i = 1; i < kills.size(); i++) {
      assertTrue(
          kills.get(i).rowsAtKill() >= kills.get(i - 1).rowsAtKill(),
          "the checkpoint never goes back across kills: " + kills);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
