package dev.tsm.importing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * mode=replace and mode=upsert into an existing table, interrupted by pauses (and a terminate),
 * each compared with what psql gives: {@code \copy} into a copy of the table, then the same SQL.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class LoadModesTest {
  private static final String COLUMNS =
      "(id integer PRIMARY KEY, code text, amount numeric, big bigint, active boolean, day date,"
          + " at timestamp, name text)";

  /** A table of {@code rows} rows of the mixed shape, loaded by psql. */
  private static void existing(String table, int rows, long seed) {
    Db.execute("CREATE TABLE " + table + " " + COLUMNS);
    Path file = CsvFiles.mixed(table + "_before.csv", rows, seed);
    Db.psql("\\copy " + table + " FROM '" + file.toAbsolutePath() + "' WITH (FORMAT csv, HEADER)");
  }

  /** The row count and an md5 of every row in id order: what "as it was" compares. */
  private static List<String> fingerprint(String table) {
    return Db.rows(
            "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t.id)) FROM " + table + " t")
        .get(0);
  }

  /** Pauses the task twice while it runs, checking the target is untouched while paused. */
  private static void interrupt(String id, String table) {
    List<String> before = fingerprint(table);
    for (int i = 0; i < 2; i++) {
      Api.awaitRows(id, 1 + i * 5000L);
      Api.command(id, "pause").then().statusCode(org.hamcrest.Matchers.oneOf(202, 409));
      JsonPath t = Api.awaitState(id, "PAUSED", "COMPLETED");
      if ("COMPLETED".equals(t.getString("state"))) {
        return;
      }
      assertEquals(before, fingerprint(table), "readers see the old rows");
      Api.command(id, "resume").then().statusCode(202);
    }
  }

  @Test
  void replaceSwapsTheRowsAtCompletionAndTerminateLeavesThemAlone() {
    existing("lm_replace", 5_000, 1);
    Path file = CsvFiles.mixed("lm_replace.csv", 40_000, 2);
    Db.execute("CREATE TABLE lm_replace_before AS SELECT * FROM lm_replace");

    String gone = Api.startImport("lm_replace", file, Map.of("mode", "replace"));
    Api.command(gone, "terminate").then().statusCode(202);
    Api.awaitState(gone, "TERMINATED");
    Db.assertSameRows("lm_replace_before", "lm_replace");

    String id = Api.startImport("lm_replace", file, Map.of("mode", "replace"));
    interrupt(id, "lm_replace");
    Api.awaitState(id, Duration.ofSeconds(60), "COMPLETED");
    Db.copyReference("lm_replace_ref", "lm_replace", file, ", HEADER true");
    Db.assertSameRows("lm_replace_ref", "lm_replace");
  }

  @Test
  void upsertMergesOnTheKeyLikeInsertOnConflict() {
    existing("lm_upsert", 20_000, 3);
    Path file = CsvFiles.mixed("lm_upsert.csv", 30_000, 4); // ids 1..20000 again, and new ones
    Db.execute("CREATE TABLE lm_upsert_ref AS SELECT * FROM lm_upsert");
    Db.execute("ALTER TABLE lm_upsert_ref ADD PRIMARY KEY (id)");
    Db.copyReference("lm_upsert_in", "lm_upsert", file, ", HEADER true");
    Db.execute(
        "INSERT INTO lm_upsert_ref SELECT * FROM lm_upsert_in ON CONFLICT (id) DO UPDATE SET"
            + " code = EXCLUDED.code, amount = EXCLUDED.amount, big = EXCLUDED.big,"
            + " active = EXCLUDED.active, day = EXCLUDED.day, at = EXCLUDED.at,"
            + " name = EXCLUDED.name");

    String id = Api.startImport("lm_upsert", file, Map.of("mode", "upsert", "key", "ID"));
    interrupt(id, "lm_upsert");
    JsonPath done = Api.awaitState(id, Duration.ofSeconds(60), "COMPLETED");
    assertEquals(30_000, done.getLong("rowsDone"));
    Db.assertSameRows("lm_upsert_ref", "lm_upsert");
  }

  @Test
  void terminatingAReplaceOrAnUpsertRunningOrPausedLeavesTheTargetAsItWas() {
    int n = 0;
    for (Map<String, String> params :
        List.of(Map.of("mode", "replace"), Map.of("mode", "upsert", "key", "id"))) {
      for (boolean pausedFirst : List.of(false, true)) {
        String table = "lm_term_" + n++;
        existing(table, 5_000, 10 + n);
        List<String> before = fingerprint(table);
        Path file = CsvFiles.mixed(table + ".csv", 40_000, 20 + n);
        String id = Api.startImport(table, file, params);
        String how = params.get("mode") + (pausedFirst ? ", paused" : ", running");
        if (pausedFirst) {
          assertNotNull(Api.pauseAt(id, 5_000), how + ": paused mid-load");
        } else {
          assertEquals("RUNNING", Api.awaitRows(id, 5_000).getString("state"), how);
        }
        Api.command(id, "terminate").then().statusCode(202);
        JsonPath ended = Api.awaitState(id, "TERMINATED", "COMPLETED", "FAILED");
        assertEquals("TERMINATED", ended.getString("state"), how);
        assertTrue(ended.getLong("rowsDone") >= 5_000, how + ": terminated mid-load");
        assertEquals(before, fingerprint(table), how + ", then terminated: the table as it was");
        String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
        assertNotNull(staging, how + ": the task names its staging table");
        assertFalse(Db.tableExists("tsm." + staging), how + ": staging table " + staging + " left");
      }
    }
  }

  @Test
  void upsertRefusesWhatItCannotMerge() {
    Db.execute("CREATE TABLE lm_nokey (id integer, name text)");
    Db.execute("CREATE TABLE lm_keyed (id integer PRIMARY KEY, name text)");
    Db.execute("INSERT INTO lm_keyed VALUES (1, 'before')");
    Path file = CsvFiles.write("lm_keyed.csv", "id,name\n1,a\n2,b\n");
    assertRefused("lm_keyed", file, Map.of("mode", "upsert"), "needs key");
    assertRefused("lm_keyed", file, Map.of("mode", "append", "key", "id"), "only with mode=upsert");
    assertRefused("lm_nokey", file, Map.of("mode", "upsert", "key", "id"), "no unique index");
    assertRefused("lm_keyed", file, Map.of("mode", "upsert", "key", "name"), "no unique index");
    assertRefused("lm_keyed", file, Map.of("mode", "upsert", "key", "other"), "not one of");
    assertRefused("lm_keyed", file, Map.of("mode", "upsert", "key", "id,,name"), "empty column");
    assertRefused("lm_missing", file, Map.of("mode", "replace"), "does not exist");

    // One key twice in the file: nothing is merged, the task fails naming the key.
    Path twice = CsvFiles.write("lm_twice.csv", "id,name\n1,x\n3,y\n1,z\n");
    String id = Api.startImport("lm_keyed", twice, Map.of("mode", "upsert", "key", "id"));
    JsonPath failed = Api.awaitState(id, "FAILED");
    assertTrue(failed.getString("error").contains("(id) = (1)"), failed.getString("error"));
    assertEquals("before", Db.single("SELECT name FROM lm_keyed WHERE id = 1"));
    assertEquals(1, Db.count("SELECT count(*) FROM lm_keyed"));
  }

  private static void assertRefused(
      String table, Path file, Map<String, String> params, String detail) {
    Auth.given()
        .contentType("text/csv")
        .body(file.toFile())
        .queryParam("table", table)
        .queryParams(params)
        .post("/imports")
        .then()
        .statusCode(org.hamcrest.Matchers.oneOf(400, 404))
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString(detail));
  }
}
