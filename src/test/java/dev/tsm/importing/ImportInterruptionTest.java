package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import dev.tsm.task.Task;
import dev.tsm.task.TaskState;
import dev.tsm.task.TaskStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Imports interrupted (paused, cut off mid-batch, terminated) and compared with the uninterrupted
 * reference: {@code psql \copy} of the same file into a table of the same column types.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportInterruptionTest {
  private static final int ROWS = 20_000;

  @Inject TaskStore store;

  @Test
  void pausedAndResumedAtRandomPointsEqualsPsqlCopy() {
    Path file = CsvFiles.mixed("pause-resume.csv", ROWS, 7);
    String id = Api.startImport("pause_resume", file);
    Random random = new Random(42);
    long[] points =
        LongStream.generate(() -> 1 + random.nextInt(ROWS - 2)).limit(4).sorted().toArray();
    int pauses = 0;
    for (long point : points) {
      JsonPath reached = Api.awaitRows(id, point);
      if (!"RUNNING".equals(reached.getString("state"))) {
        break;
      }
      var pause = Api.command(id, "pause");
      if (pause.statusCode() == 409 && "COMPLETED".equals(Api.state(id))) {
        break;
      }
      assertEquals(202, pause.statusCode(), pause.asString());
      JsonPath paused = Api.awaitState(id, "PAUSED", "COMPLETED");
      if ("COMPLETED".equals(paused.getString("state"))) {
        break;
      }
      pauses++;
      assertPausedStateIsConsistent(id, paused, "public.pause_resume");
      Api.command(id, "pause").then().statusCode(409);
      Api.command(id, "resume").then().statusCode(202);
    }
    assertTrue(pauses >= 1, "the import was paused at least once before it completed");
    JsonPath done = Api.awaitState(id, "COMPLETED");
    assertEquals(ROWS, done.getLong("rowsDone"));
    assertEquals(100.0, done.getDouble("percent"));
    Db.copyReference("ref_pause_resume", "public.pause_resume", file, ", HEADER true");
    Db.assertSameRows("ref_pause_resume", "public.pause_resume");
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table left");
    Api.command(id, "resume").then().statusCode(409);
  }

  /**
   * A resume that withdraws a pause before it took effect: the run was stopped at once all the
   * same, so its end hands the task back PENDING (it goes on from its checkpoint) instead of
   * PAUSED. Over HTTP the window is a few milliseconds wide, so the run's end is driven here as it
   * runs in the service, on a task held by a run of another instance.
   */
  @Test
  void aPauseWithdrawnBeforeItTookEffectEndsTheRunPendingAndTheImportEqualsPsqlCopy() {
    Path file = CsvFiles.mixed("withdrawn-pause.csv", ROWS, 13);
    String id = Api.startImport("withdrawn_pause", file);
    JsonPath paused = Api.pauseAt(id, ROWS / 3);
    assertTrue(paused != null, "paused before it completed");
    UUID task = UUID.fromString(id);
    String owner = "elsewhere/1";
    Runnable heldElsewhere =
        () ->
            Db.execute(
                "UPDATE tsm.task SET state = 'RUNNING', owner = '"
                    + owner
                    + "', lease_until = now() + interval '1 hour' WHERE id = '"
                    + id
                    + "'");
    TaskStore.By by = new TaskStore.By("pause", "test");
    Duration wait = Duration.ofSeconds(10);

    heldElsewhere.run();
    store.request(task, TaskState.PAUSED, null, by).await().atMost(wait);
    assertEquals(
        null,
        store.release(task, "stale/1", TaskState.PAUSED, null).await().atMost(wait),
        "fenced");
    Task ended = store.release(task, owner, TaskState.PAUSED, null).await().atMost(wait);
    assertEquals(TaskState.PAUSED, ended.state(), "the pause asked took effect");
    assertEquals(null, ended.owner());
    assertEquals(paused.getLong("rowsDone"), ended.checkpoint().rowsDone());

    heldElsewhere.run();
    store.request(task, TaskState.TERMINATED, null, by).await().atMost(wait);
    assertEquals(
        null,
        store.release(task, owner, TaskState.PAUSED, null).await().atMost(wait),
        "a terminate asked wins");
    Db.execute(
        "UPDATE tsm.task SET requested_state = NULL, requested_at = NULL WHERE id = '" + id + "'");

    store.request(task, TaskState.PAUSED, null, by).await().atMost(wait);
    store.withdrawPause(task, by).await().atMost(wait); // a resume, before the pause took effect
    ended = store.release(task, owner, TaskState.PAUSED, null).await().atMost(wait);
    assertEquals(TaskState.PENDING, ended.state(), "handed back to go on, not PAUSED");
    assertEquals(null, ended.requestedState());
    // A runner takes it up again from the checkpoint.
    JsonPath done = Api.awaitState(id, "COMPLETED", "PAUSED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(ROWS, done.getLong("rowsDone"));
    Db.copyReference("ref_withdrawn_pause", "public.withdrawn_pause", file, ", HEADER true");
    Db.assertSameRows("ref_withdrawn_pause", "public.withdrawn_pause");
  }

  /** While paused: the staging table holds exactly the checkpoint's rows, and nothing moves. */
  private static void assertPausedStateIsConsistent(String id, JsonPath paused, String target) {
    long rows = paused.getLong("rowsDone");
    assertTrue(rows > 0 && rows <= ROWS, "paused at " + rows);
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertEquals(rows, Db.count("SELECT count(*) FROM tsm." + staging));
    assertEquals(
        null,
        Db.single("SELECT owner FROM tsm.task WHERE id = '" + id + "'"),
        "a paused task has no owner");
    assertFalse(Db.tableExists(target), "the target appears only at completion");
    Api.assertStaysPaused(
        id,
        rows,
        Duration.ofMillis(300),
        now -> assertEquals(rows, Db.count("SELECT count(*) FROM tsm." + staging)));
  }

  @Test
  void cutOffWhileCopyingThenResumedEqualsPsqlCopy() throws SQLException {
    Path file = CsvFiles.mixed("cut-off.csv", ROWS, 11);
    String id = Api.startImport("cut_off", file);
    // Kill a connection while its COPY is in flight: the batch's transaction dies half-sent. One
    // open connection polls (a fraction of a millisecond a look), for as long as the task runs.
    boolean cut = false;
    try (Connection watcher = TestDatabase.pg().connect();
        PreparedStatement kill =
            watcher.prepareStatement(
                "SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND state = 'active'"
                    + " AND query LIKE 'COPY tsm.%'")) {
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      for (long look = 1; !cut && System.nanoTime() < deadline; look++) {
        try (ResultSet rs = kill.executeQuery()) {
          cut = rs.next() && rs.getBoolean(1);
        }
        if (!cut && look % 500 == 0 && !List.of("PENDING", "RUNNING").contains(Api.state(id))) {
          break;
        }
      }
    }
    assertTrue(cut, "caught a COPY in flight before the task ended: " + Api.state(id));
    assertFailedCleanlyThenResumes(id, "cut_off", file);
  }

  @Test
  void killedBeforeItsCheckpointCommitsThenResumedEqualsPsqlCopy() throws SQLException {
    Path file = CsvFiles.mixed("killed-before-commit.csv", ROWS, 19);
    String id = Api.startImport("killed_before_commit", file);
    Api.awaitRows(id, 1000);
    // Hold the task row: the next batch copies its rows, then waits to write its checkpoint. Its
    // connection dies there, with the batch's rows written but not committed.
    try (Connection holder = TestDatabase.pg().connect();
        Connection watcher = TestDatabase.pg().connect();
        PreparedStatement kill =
            watcher.prepareStatement(
                "SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    + " AND query LIKE 'UPDATE tsm.task SET rows_done%'")) {
      holder.setAutoCommit(false);
      try (Statement hold = holder.createStatement()) {
        hold.execute("SELECT 1 FROM tsm.task WHERE id = '" + id + "' FOR UPDATE");
      }
      boolean killed = false;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!killed && System.nanoTime() < deadline) {
        try (ResultSet rs = kill.executeQuery()) {
          killed = rs.next() && rs.getBoolean(1);
        }
      }
      holder.rollback(); // the run's end is written to the row next
      assertTrue(killed, "a batch waited on its checkpoint");
    }
    assertFailedCleanlyThenResumes(id, "killed_before_commit", file);
  }

  /**
   * A pause cancels the batches in flight in PostgreSQL, rather than letting their COPY run on to
   * be fenced out at its commit. The test holds the staging table so the next batches' COPY waits
   * on it: without the cancel they would wait as long as the test holds it.
   */
  @Test
  void aPauseCancelsTheCopyOfTheBatchesInFlight() throws SQLException {
    Path file = CsvFiles.mixed("pause-cancels.csv", ROWS, 23);
    String id = Api.startImport("pause_cancels", file);
    Api.awaitRows(id, 1000);
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    String waiting =
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            + " AND state = 'active' AND query LIKE 'COPY tsm.%' AND wait_event_type = 'Lock'";
    try (Connection holder = TestDatabase.pg().connect()) {
      holder.setAutoCommit(false);
      try (Statement hold = holder.createStatement()) {
        hold.execute("SET LOCAL lock_timeout = '30s'");
        hold.execute("LOCK TABLE tsm." + staging + " IN ACCESS EXCLUSIVE MODE");
      }
      Waits.until(Duration.ofSeconds(30), "a batch's COPY waits", () -> Db.count(waiting) > 0);
      Api.command(id, "pause").then().statusCode(202);
      Api.awaitState(id, "PAUSED");
      Waits.until(Duration.ofSeconds(5), "no COPY left waiting", () -> Db.count(waiting) == 0);
      holder.rollback();
    }
    assertPausedStateIsConsistent(id, Api.awaitState(id, "PAUSED"), "public.pause_cancels");
    Api.command(id, "resume").then().statusCode(202);
    assertEquals(ROWS, Api.awaitState(id, "COMPLETED").getLong("rowsDone"));
    Db.copyReference("ref_pause_cancels", "public.pause_cancels", file, ", HEADER true");
    Db.assertSameRows("ref_pause_cancels", "public.pause_cancels");
  }

  /**
   * The run failed on its lost connection; the staging table holds exactly the committed rows (the
   * cut batch left nothing behind); resumed, the result equals {@code psql \copy} of the file.
   */
  private static void assertFailedCleanlyThenResumes(String id, String table, Path file) {
    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"));
    assertTrue(failed.getString("error").contains("connection"), failed.getString("error"));
    long committed = failed.getLong("rowsDone");
    assertTrue(committed < ROWS, "cut before the end, at " + committed);
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertEquals(
        committed, Db.count("SELECT count(*) FROM tsm." + staging), "the cut batch left nothing");

    Api.command(id, "resume").then().statusCode(202);
    JsonPath done = Api.awaitState(id, "COMPLETED");
    assertEquals(ROWS, done.getLong("rowsDone"));
    Db.copyReference("ref_" + table, "public." + table, file, ", HEADER true");
    Db.assertSameRows("ref_" + table, "public." + table);
  }

  @Test
  void terminateWhileRunningLeavesNothing() throws Exception {
    // Large enough to be still running when the terminate arrives, even on a loaded machine.
    Path file = CsvFiles.mixed("terminate-running.csv", 2 * ROWS, 13);
    String id = Api.startImport("terminate_running", file);
    Api.awaitRows(id, 1000);
    Api.command(id, "terminate").then().statusCode(202);
    Api.awaitState(id, "TERMINATED");
    assertNothingLeft(id, "public.terminate_running");
    Api.command(id, "resume").then().statusCode(409);
    Api.command(id, "terminate").then().statusCode(409);
  }

  @Test
  void terminateWhilePausedLeavesNothing() throws Exception {
    Path file = CsvFiles.mixed("terminate-paused.csv", ROWS, 17);
    String id = Api.startImport("terminate_paused", file);
    Api.awaitRows(id, 1000);
    Api.command(id, "pause").then().statusCode(202);
    Api.awaitState(id, "PAUSED");
    given().post("/tasks/" + id + "/terminate").then().statusCode(202);
    Api.awaitState(id, "TERMINATED");
    assertNothingLeft(id, "public.terminate_paused");
  }

  private static void assertNothingLeft(String id, String table) throws Exception {
    assertFalse(Db.tableExists(table), "no target table");
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table");
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task_reject WHERE task_id = '" + id + "'"));
    try (var files = Files.list(Path.of("target", "test-files", "imports"))) {
      List<Path> left = files.filter(p -> p.getFileName().toString().startsWith(id)).toList();
      assertTrue(left.isEmpty(), "no staged file: " + left);
    }
  }
}
