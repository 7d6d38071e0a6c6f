package dev.tsm.importing;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
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

  @Test
  void pausedAndResumedAtRandomPointsEqualsPsqlCopy() {
    Path file = CsvFiles.mixed("pause-resume.csv", ROWS, 7);
    String id = Api.startImport("pause_resume", file);
    Random random = new Random(42);
    long[] points =
        LongStream.generate(() -> 1 + random.nextInt(ROWS - 2)).limit(4).sorted().toArray();
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
      assertPausedStateIsConsistent(id, paused);
      Api.command(id, "pause").then().statusCode(409);
      Api.command(id, "resume").then().statusCode(202);
    }
    JsonPath done = Api.awaitState(id, "COMPLETED");
    assertEquals(ROWS, done.getLong("rowsDone"));
    assertEquals(100.0, done.getDouble("percent"));
    Db.copyReference("ref_pause_resume", "public.pause_resume", file, ", HEADER true");
    Db.assertSameRows("ref_pause_resume", "public.pause_resume");
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table left");
    Api.command(id, "resume").then().statusCode(409);
  }

  /** While paused: the staging table holds exactly the checkpoint's rows, and nothing moves. */
  private static void assertPausedStateIsConsistent(String id, JsonPath paused) {
    long rows = paused.getLong("rowsDone");
    assertTrue(rows > 0 && rows <= ROWS, "paused at " + rows);
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertEquals(rows, Db.count("SELECT count(*) FROM tsm." + staging));
    assertEquals(
        null,
        Db.single("SELECT owner FROM tsm.task WHERE id = '" + id + "'"),
        "a paused task has no owner");
    assertFalse(Db.tableExists("public.pause_resume"), "the target appears only at completion");
    sleep(300);
    assertEquals(rows, Api.task(id).getLong("rowsDone"), "a paused task does not move");
  }

  @Test
  void cutOffMidBatchThenResumedEqualsPsqlCopy() {
    Path file = CsvFiles.mixed("cut-off.csv", ROWS, 11);
    String id = Api.startImport("cut_off", file);
    boolean cut = false;
    for (int i = 0; i < 20_000 && !cut; i++) {
      // Kill the connection while its COPY is in flight: the batch's transaction dies half-sent.
      cut =
          "t"
              .equals(
                  Db.single(
                      "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity"
                          + " WHERE datname = current_database() AND state = 'active'"
                          + " AND query LIKE 'COPY tsm.%'"));
    }
    assertTrue(cut, "caught a COPY in flight");
    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"));
    assertTrue(failed.getString("error").contains("connection"), failed.getString("error"));
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertEquals(
        failed.getLong("rowsDone"),
        Db.count("SELECT count(*) FROM tsm." + staging),
        "the cut batch left nothing behind");

    Api.command(id, "resume").then().statusCode(202);
    JsonPath done = Api.awaitState(id, "COMPLETED");
    assertEquals(ROWS, done.getLong("rowsDone"));
    Db.copyReference("ref_cut_off", "public.cut_off", file, ", HEADER true");
    Db.assertSameRows("ref_cut_off", "public.cut_off");
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

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
