package dev.tsm.retention;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.access.Caller;
import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Exports;
import dev.tsm.support.TestDatabase;
import dev.tsm.task.Task;
import dev.tsm.task.TaskEnds;
import dev.tsm.task.TaskService;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Retention and the sweep, against the real database and file store: expired export files (410),
 * stale FAILED tasks terminated through the terminate path, and orphans a crash left, while
 * everything a live task needs stays. Age is made by moving timestamps back (task rows, file
 * times), not by waiting days.
 */
@QuarkusTest
@TestProfile(RetentionTest.Sweeping.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class RetentionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Path IMPORTS = Path.of("target", "test-files", "imports");

  /** A sweep every second, so the schedule itself is exercised too. */
  public static class Sweeping implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tsm.retention.sweep-interval", "1s");
    }
  }

  @Inject RetentionSweep sweep;
  @Inject TaskEnds ends;
  @Inject TaskService tasks;

  @Test
  void expiredExportFileIsDeletedAndItsDownloadAnswers410() {
    Db.execute("CREATE TABLE kept_export (id int PRIMARY KEY, name text)");
    Db.execute("INSERT INTO kept_export SELECT i, 'n' || i FROM generate_series(1, 300) i");
    String old = completedExport("kept_export");
    String fresh = completedExport("kept_export");
    assertTrue(Exports.download(old).length > 0);

    // Completed eight days ago: past the default tsm.retention.export-files (7d).
    Db.execute(
        "UPDATE tsm.task SET finished_at = now() - interval '8 days' WHERE id = '" + old + "'");
    sweepOnce();

    var r = given().get("/tasks/" + old + "/file");
    String detail = assertProblem(r, 410, "expired", "export the table again").getString("detail");
    Instant expiredAt =
        Instant.EPOCH.plusNanos(
            1000
                * Db.count(
                    "SELECT (extract(epoch FROM file_expired_at) * 1000000)::bigint FROM tsm.task"
                        + " WHERE id = '"
                        + old
                        + "'"));
    assertTrue(detail.contains(expiredAt.toString()), "says when: " + detail);
    assertEquals("COMPLETED", Api.state(old), "the task stays COMPLETED");
    assertFalse(Files.exists(Exports.file(old)), "the file is deleted");

    // A file within its retention stays downloadable.
    assertTrue(Exports.download(fresh).length > 0);
    assertNull(Db.single("SELECT file_expired_at FROM tsm.task WHERE id = '" + fresh + "'"));
  }

  @Test
  void exportFileMissingWithoutExpiryIsGoneToo() throws IOException {
    Db.execute("CREATE TABLE lost_export (id int PRIMARY KEY)");
    Db.execute("INSERT INTO lost_export SELECT generate_series(1, 10)");
    String id = completedExport("lost_export");
    Files.delete(Exports.file(id));
    assertProblem(given().get("/tasks/" + id + "/file"), 410, "no longer in the file store");
  }

  @Test
  void staleFailedTaskIsTerminatedThroughTheTerminatePath() {
    String stale = failedImport("stale_failed");
    String recent = failedImport("recent_failed");
    String staleError = Api.task(stale).getString("error");
    assertTrue(Db.tableExists("tsm." + staging(stale)), "a FAILED task keeps its staging table");
    assertTrue(Files.exists(IMPORTS.resolve(stale + ".csv")), "and its staged file");

    Db.execute(
        "UPDATE tsm.task SET updated_at = now() - interval '8 days' WHERE id = '" + stale + "'");
    sweepOnce();

    JsonPath terminated = Api.task(stale);
    assertEquals("TERMINATED", terminated.getString("state"));
    String error = terminated.getString("error");
    assertTrue(error.contains("tsm.retention.failed-tasks"), error);
    assertTrue(error.contains("7d"), error);
    assertTrue(error.contains(staleError), "keeps what it had failed with: " + error);
    assertFalse(Db.tableExists("tsm." + staging(stale)), "staging table dropped");
    assertFalse(Files.exists(IMPORTS.resolve(stale + ".csv")), "staged file deleted");
    assertFalse(Db.tableExists("public.stale_failed"), "nothing published");

    assertEquals("FAILED", Api.state(recent), "a recent failure stays");
    assertTrue(Db.tableExists("tsm." + staging(recent)));
    assertTrue(Files.exists(IMPORTS.resolve(recent + ".csv")));
  }

  @Test
  void failedTaskResumedMeanwhileIsNotTerminated() {
    String id = failedImport("resumed_failed");
    Task seen = tasks.get(Caller.SERVICE, UUID.fromString(id)).await().atMost(WAIT);
    assertEquals(202, Api.command(id, "resume").statusCode());
    // It runs again and fails again at the same row: FAILED, but not the failure the sweep saw.
    Api.awaitState(id, "FAILED");
    assertFalse(ends.terminateFailed(seen, "stale"));
    assertEquals("FAILED", Api.state(id));
    assertTrue(Db.tableExists("tsm." + staging(id)));
  }

  @Test
  void orphansGoAndWhatLiveTasksNeedStays() throws IOException {
    String failed = failedImport("orphan_sweep_failed");
    String paused = pausedImport("orphan_sweep_paused");
    Db.execute("CREATE TABLE orphan_sweep_export (id int PRIMARY KEY)");
    Db.execute("INSERT INTO orphan_sweep_export SELECT generate_series(1, 10)");
    String exported = completedExport("orphan_sweep_export");
    String completed =
        Api.startImport("orphan_sweep_done", CsvFiles.mixed("orphan-done.csv", 20, 3));
    Api.awaitState(completed, "COMPLETED", "FAILED");

    // Left by crashes: files of no task, or of a task that no longer needs them.
    Path noTaskImport = plant(IMPORTS.resolve(UUID.randomUUID() + ".csv"), true);
    Path noTaskPart = plant(Exports.part(UUID.randomUUID().toString()), true);
    Path noTaskExport = plant(Exports.file(UUID.randomUUID().toString()), true);
    Path completedImport = plant(IMPORTS.resolve(completed + ".csv"), true);
    String noTaskTable = "import_" + UUID.randomUUID().toString().replace("-", "");
    Db.execute("CREATE TABLE tsm." + noTaskTable + " (a text)");
    // To keep: a body still within the grace period (its task may be about to exist), files and
    // tables of live tasks however old, a completed export's file, anything not named for a task.
    Path arriving = plant(IMPORTS.resolve(UUID.randomUUID() + ".csv"), false);
    Path failedFile = age(IMPORTS.resolve(failed + ".csv"));
    Path pausedFile = age(IMPORTS.resolve(paused + ".csv"));
    Path exportFile = age(Exports.file(exported));
    Path stranger = plant(IMPORTS.resolve("notes.txt"), true);

    sweepOnce();

    for (Path gone : new Path[] {noTaskImport, noTaskPart, noTaskExport, completedImport}) {
      assertFalse(Files.exists(gone), gone + " is an orphan");
    }
    assertFalse(Db.tableExists("tsm." + noTaskTable), "a staging table of no task is dropped");
    for (Path kept : new Path[] {arriving, failedFile, pausedFile, exportFile, stranger}) {
      assertTrue(Files.exists(kept), kept + " must stay");
    }
    assertTrue(Db.tableExists("tsm." + staging(failed)), "a FAILED task's staging table stays");
    assertTrue(Db.tableExists("tsm." + staging(paused)), "a PAUSED task's staging table stays");
    assertEquals("FAILED", Api.state(failed));
    assertEquals("PAUSED", Api.state(paused));
    assertTrue(Exports.download(exported).length > 0);
  }

  @Test
  void oneInstanceSweepsAtATime() throws SQLException, IOException {
    Path orphan;
    try (Connection other = TestDatabase.pg().connect();
        Statement s = other.createStatement()) {
      // Another replica is sweeping. Planted once the lock is held: the scheduled sweep could
      // otherwise remove it first (seen once in CI).
      s.execute("SELECT pg_advisory_lock(hashtext('tsm.retention'))");
      orphan = plant(IMPORTS.resolve(UUID.randomUUID() + ".csv"), true);
      assertNull(sweep.sweep(), "no sweep while another instance holds the lock");
      assertTrue(Files.exists(orphan), "nothing removed meanwhile");
      s.execute("SELECT pg_advisory_unlock(hashtext('tsm.retention'))");
    }
    sweepOnce();
    assertFalse(Files.exists(orphan));
  }

  @Test
  void theScheduleSweepsWithoutBeingAsked() throws IOException {
    Path orphan = plant(IMPORTS.resolve(UUID.randomUUID() + ".csv"), true);
    await().atMost(WAIT).until(() -> !Files.exists(orphan));
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Runs one whole sweep (waiting while the scheduled one holds the lock). */
  private void sweepOnce() {
    AtomicReference<Swept> swept = new AtomicReference<>();
    await()
        .atMost(WAIT)
        .until(
            () -> {
              swept.set(sweep.sweep());
              return swept.get() != null;
            });
  }

  private static String completedExport(String table) {
    String id = Exports.start(Map.of("table", table));
    assertEquals("COMPLETED", Api.awaitState(id, "COMPLETED", "FAILED").getString("state"));
    return id;
  }

  /** An import that FAILED past its type sample: an integer column meets "abc". */
  private static String failedImport(String table) {
    StringBuilder csv = new StringBuilder("id,n\n");
    for (int i = 1; i <= 1200; i++) {
      csv.append(i).append(',').append(i * 2).append('\n');
    }
    csv.append("1201,abc\n");
    String id = Api.startImport(table, CsvFiles.write(table + ".csv", csv.toString()));
    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"), failed.prettify());
    assertNotNull(failed.getString("error"));
    return id;
  }

  private static String pausedImport(String table) {
    String id = Api.startImport(table, CsvFiles.mixed(table + ".csv", 40_000, 5));
    assertEquals(202, Api.command(id, "pause").statusCode());
    Api.awaitState(id, "PAUSED");
    return id;
  }

  private static String staging(String id) {
    return Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
  }

  /** A file with some bytes, two hours old ({@code old}) or just written. */
  private static Path plant(Path file, boolean old) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "a,b\n1,2\n");
    return old ? age(file) : file;
  }

  /** Last written two hours ago: past the default grace of an hour. */
  private static Path age(Path file) throws IOException {
    assertTrue(Files.exists(file), file + " exists");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
    return file;
  }
}
