package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Exports;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The ten endpoints of the service this one replaces: /upload/{start,pause,resume,terminate,
 * progress} and /download/{start,pause,resume,terminate,progress}, each acting on ?taskId= or on
 * the newest task of its kind. A profile of its own gives this class a fresh database, so the first
 * test sees no task at all.
 */
@QuarkusTest
@TestProfile(CompatEndpointsTest.FreshDatabase.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CompatEndpointsTest {
  private static final String PROBLEM = "application/problem+json";
  private static final int ROWS = 20_000;
  private static final List<String> COMMANDS = List.of("pause", "resume", "terminate");

  /**
   * The test profile as it is; being a profile of its own restarts the service on a new database.
   */
  public static class FreshDatabase implements QuarkusTestProfile {}

  // ---- helpers ---------------------------------------------------------------------------------

  private static Response post(String path) {
    return given().post(path);
  }

  private static void assertProblem(Response r, int status, String... details) {
    assertEquals(status, r.statusCode(), r.asString());
    assertTrue(r.contentType().startsWith(PROBLEM), r.contentType());
    String detail = r.jsonPath().getString("detail");
    for (String d : details) {
      assertTrue(detail != null && detail.contains(d), "'" + d + "' in " + r.asString());
    }
  }

  /**
   * Once {@code id} has done 1,000 rows, {@code path} (a pause without taskId) pauses it, the
   * newest task of its kind, before it completes; returns the PAUSED task.
   */
  private static JsonPath pauseMidWay(String path, String id) {
    Api.awaitRows(id, 1000);
    Response pause = post(path);
    assertEquals(202, pause.statusCode(), pause.asString());
    assertEquals(id, pause.jsonPath().getString("id"), path + " acts on the newest task");
    JsonPath paused = Api.awaitState(id, "PAUSED", "COMPLETED");
    assertEquals("PAUSED", paused.getString("state"), "paused mid-way");
    return paused;
  }

  /** GET {@code path} (a progress endpoint), with {@code taskId} unless null; expects 200. */
  private static JsonPath progress(String path, String taskId) {
    var request = given();
    if (taskId != null) {
      request.queryParam("taskId", taskId);
    }
    return request.get(path).then().statusCode(200).extract().jsonPath();
  }

  /** 409 naming the state the task is in. */
  private static void assertRefused(Response r, String state) {
    assertProblem(r, 409, state);
    assertEquals(state, r.jsonPath().getString("state"), r.asString());
  }

  private static Response uploadCsv(String table, Path file) {
    return given()
        .contentType("text/csv")
        .queryParam("table", table)
        .body(file.toFile())
        .post("/upload/start");
  }

  private static String startUpload(String table, Path file) {
    Response r = uploadCsv(table, file);
    assertEquals(202, r.statusCode(), r.asString());
    assertEquals("IMPORT", r.jsonPath().getString("kind"));
    assertEquals("public." + table, r.jsonPath().getString("table"));
    return r.jsonPath().getString("id");
  }

  /** 20,000 rows, tricky text among them, inserted out of key order. */
  private static void downloadTable(String table) {
    Db.execute(
        "CREATE TABLE public."
            + table
            + " (id integer PRIMARY KEY, name text, amount numeric,"
            + " day date)");
    Db.execute(
        "INSERT INTO public."
            + table
            + " SELECT g,"
            + " (ARRAY['Zoë', '東京', 'a,b', 'say \"hi\"', E'two\\nlines', '', NULL])[1 + g % 7],"
            + " round(g / 3.0, 2), date '2024-01-01' + g % 300"
            + " FROM generate_series(1, "
            + ROWS
            + ") g ORDER BY md5(g::text)");
  }

  // ---- no task yet -----------------------------------------------------------------------------

  @Test
  @Order(1)
  void withoutAnyTaskEveryEndpointIsNotFound() {
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task"), "a fresh database");
    assertProblem(given().get("/upload/progress"), 404, "there is no import task yet");
    assertProblem(given().get("/download/progress"), 404, "there is no export task yet");
    for (String command : COMMANDS) {
      assertProblem(post("/upload/" + command), 404, "there is no import task yet");
      assertProblem(post("/download/" + command), 404, "there is no export task yet");
    }
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task"), "nothing was created");
  }

  // ---- bad task ids ----------------------------------------------------------------------------

  @Test
  void malformedAndUnknownTaskIds() {
    UUID unknown = UUID.randomUUID();
    for (String kind : List.of("upload", "download")) {
      assertProblem(
          given().queryParam("taskId", "42").get("/" + kind + "/progress"),
          400,
          "'42' is not a task id");
      assertProblem(
          given().queryParam("taskId", unknown.toString()).get("/" + kind + "/progress"),
          404,
          "there is no task " + unknown);
      for (String command : COMMANDS) {
        assertProblem(
            given().queryParam("taskId", "not-a-uuid").post("/" + kind + "/" + command),
            400,
            "'not-a-uuid' is not a task id");
        assertProblem(
            given()
                .queryParam("taskId", unknown.toString().toUpperCase() + "x")
                .post("/" + kind + "/" + command),
            400,
            "is not a task id");
        assertProblem(
            given().queryParam("taskId", unknown.toString()).post("/" + kind + "/" + command),
            404,
            "there is no task " + unknown);
      }
    }
  }

  @Test
  void aTaskOfTheOtherKindIsNotFound() {
    String importId = startUpload("compat_kinds", CsvFiles.mixed("compat-kinds.csv", 50, 4));
    downloadTable("compat_kinds_src");
    String exportId = Exports.start("/download/start", Map.of("table", "compat_kinds_src"));
    Api.awaitState(importId, "COMPLETED");
    Api.awaitState(exportId, "COMPLETED");

    assertProblem(
        given().queryParam("taskId", exportId).get("/upload/progress"),
        404,
        "task " + exportId + " is not an import task");
    assertProblem(
        given().queryParam("taskId", importId).get("/download/progress"),
        404,
        "task " + importId + " is not an export task");
    for (String command : COMMANDS) {
      assertProblem(
          given().queryParam("taskId", exportId).post("/upload/" + command),
          404,
          "is not an import task");
      assertProblem(
          given().queryParam("taskId", importId).post("/download/" + command),
          404,
          "is not an export task");
    }
    // Nothing was done to either.
    assertEquals("COMPLETED", Api.state(importId));
    assertEquals("COMPLETED", Api.state(exportId));
  }

  // ---- /upload/* -------------------------------------------------------------------------------

  @Test
  void uploadStartPauseResumeProgressWithoutTaskId() {
    Path file = CsvFiles.mixed("compat-upload.csv", ROWS, 21);
    String id = startUpload("compat_upload", file);

    JsonPath progress = progress("/upload/progress", null);
    assertEquals(id, progress.getString("id"), "progress without taskId shows the newest import");
    assertEquals("IMPORT", progress.getString("kind"));
    JsonPath paused = pauseMidWay("/upload/pause", id);
    JsonPath shown = progress("/upload/progress", null);
    assertEquals("PAUSED", shown.getString("state"));
    assertEquals(paused.getLong("rowsDone"), shown.getLong("rowsDone"));
    assertTrue(shown.getLong("rowsDone") > 0 && shown.getLong("rowsDone") < ROWS);
    assertFalse(Db.tableExists("public.compat_upload"), "the target appears at completion");
    assertRefused(post("/upload/pause"), "PAUSED");

    Response resume = post("/upload/resume");
    assertEquals(202, resume.statusCode(), resume.asString());
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    JsonPath finished = progress("/upload/progress", id);
    assertEquals(ROWS, finished.getLong("rowsDone"));
    assertEquals(100.0, finished.getDouble("percent"));
    // An empty taskId is no taskId.
    assertEquals(id, progress("/upload/progress", "").getString("id"));

    Db.copyReference("compat_upload_ref", "public.compat_upload", file, ", HEADER true");
    Db.assertSameRows("compat_upload_ref", "public.compat_upload");

    // A COMPLETED import can be neither paused, resumed nor terminated.
    for (String command : COMMANDS) {
      assertRefused(post("/upload/" + command), "COMPLETED");
      assertRefused(given().queryParam("taskId", id).post("/upload/" + command), "COMPLETED");
    }
  }

  @Test
  void uploadStartMultipart() {
    Path file = CsvFiles.mixed("compat-multipart.csv", 3000, 22);
    Response r =
        given()
            .multiPart("file", file.toFile(), "text/csv")
            .queryParam("table", "compat_multipart")
            .post("/upload/start");
    assertEquals(202, r.statusCode(), r.asString());
    String id = r.jsonPath().getString("id");
    assertEquals(id, progress("/upload/progress", null).getString("id"));
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    Db.copyReference("compat_multipart_ref", "public.compat_multipart", file, ", HEADER true");
    Db.assertSameRows("compat_multipart_ref", "public.compat_multipart");
  }

  @Test
  void uploadTerminateLeavesNothing() throws Exception {
    Path file = CsvFiles.mixed("compat-terminate.csv", ROWS, 23);
    String id = startUpload("compat_terminate", file);
    Api.awaitRows(id, 1000);
    // The newest import is this one; an older one is named by taskId and left alone.
    Response terminate = post("/upload/terminate");
    assertEquals(202, terminate.statusCode(), terminate.asString());
    assertEquals(id, terminate.jsonPath().getString("id"));
    // COMPLETED too ends the wait, so that the assertion below is one the wait does not make.
    JsonPath ended = Api.awaitState(id, "TERMINATED", "COMPLETED");
    assertEquals("TERMINATED", ended.getString("state"), "terminated before it completed");

    assertFalse(Db.tableExists("public.compat_terminate"), "no target table");
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table");
    try (var files = Files.list(Path.of("target", "test-files", "imports"))) {
      List<Path> left = files.filter(p -> p.getFileName().toString().startsWith(id)).toList();
      assertTrue(left.isEmpty(), "no staged file: " + left);
    }
    for (String command : COMMANDS) {
      assertRefused(post("/upload/" + command), "TERMINATED");
    }
  }

  @Test
  void uploadStartBadInput() {
    Path file = CsvFiles.mixed("compat-bad.csv", 10, 24);
    long tasks = Db.count("SELECT count(*) FROM tsm.task");
    assertProblem(
        given().contentType("text/csv").body(file.toFile()).post("/upload/start"), 400, "'table'");
    assertProblem(uploadCsv("x; drop table y", file), 400, "not a valid table name");
    assertProblem(uploadCsv("tsm.task", file), 400, "schema 'tsm'");
    assertProblem(
        given()
            .contentType("text/csv")
            .queryParam("table", "compat_bad")
            .queryParam("delimiter", "ab")
            .body(file.toFile())
            .post("/upload/start"),
        400,
        "delimiter");
    Response multipartWithoutFile =
        given().multiPart("other", "x").queryParam("table", "compat_bad").post("/upload/start");
    assertProblem(multipartWithoutFile, 400, "'file'");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no task was created");
  }

  // ---- /download/* -----------------------------------------------------------------------------

  @Test
  void downloadStartPauseResumeProgressWithoutTaskId() {
    downloadTable("compat_down");
    String select = "SELECT * FROM public.compat_down ORDER BY id";
    byte[] expected = Exports.reference("compat-down", select, ", HEADER");
    String id = Exports.start("/download/start", Map.of("table", "compat_down"));

    JsonPath progress = progress("/download/progress", null);
    assertEquals(id, progress.getString("id"), "progress without taskId shows the newest export");
    assertEquals(ROWS, progress.getLong("rowsTotal"));
    JsonPath paused = pauseMidWay("/download/pause", id);
    JsonPath shown = progress("/download/progress", id);
    assertEquals("PAUSED", shown.getString("state"));
    long rows = shown.getLong("rowsDone");
    assertTrue(rows > 0 && rows < ROWS, "paused at " + rows);
    assertEquals(shown.getLong("bytesDone"), Exports.size(Exports.part(id)));
    Exports.assertSameBytes(
        Exports.reference("compat-down-prefix", select + " LIMIT " + rows, ", HEADER"),
        Exports.read(Exports.part(id)),
        "the .part file while paused");
    assertRefused(post("/download/pause"), "PAUSED");
    assertProblem(given().get("/tasks/" + id + "/file"), 409, "COMPLETED");

    Response resume = post("/download/resume");
    assertEquals(202, resume.statusCode(), resume.asString());
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    JsonPath finished = progress("/download/progress", null);
    assertEquals(ROWS, finished.getLong("rowsDone"));
    assertEquals(100.0, finished.getDouble("percent"));
    assertEquals(expected.length, finished.getLong("bytesDone"));
    Exports.assertSameBytes(expected, Exports.download(id), "download");

    for (String command : COMMANDS) {
      assertRefused(post("/download/" + command), "COMPLETED");
    }
    assertTrue(Files.exists(Exports.file(id)), "a refused terminate leaves the file");
  }

  @Test
  void downloadWithOptions() {
    downloadTable("compat_opts");
    String id =
        Exports.start(
            "/download/start",
            Map.of(
                "table",
                "compat_opts",
                "columns",
                List.of("name", "id"),
                "delimiter",
                ";",
                "header",
                false));
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    Exports.assertSameBytes(
        Exports.reference(
            "compat-opts",
            "SELECT name, id FROM public.compat_opts ORDER BY id",
            ", DELIMITER ';'"),
        Exports.download(id),
        "download with options");
  }

  @Test
  void downloadTerminateRemovesTheFile() {
    downloadTable("compat_down_term");
    String fingerprint =
        Db.single(
            "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM public.compat_down_term t");

    // Terminated while running.
    String running = Exports.start("/download/start", Map.of("table", "compat_down_term"));
    Api.awaitRows(running, 1000);
    Response terminate = post("/download/terminate");
    assertEquals(202, terminate.statusCode(), terminate.asString());
    assertEquals(running, terminate.jsonPath().getString("id"));
    Api.awaitState(running, "TERMINATED");
    assertFalse(Files.exists(Exports.part(running)), "no .part file");
    assertFalse(Files.exists(Exports.file(running)), "no .csv file");

    // Terminated while paused, by taskId.
    String paused = Exports.start("/download/start", Map.of("table", "compat_down_term"));
    Api.awaitRows(paused, 1000);
    assertEquals(202, given().queryParam("taskId", paused).post("/download/pause").statusCode());
    Api.awaitState(paused, "PAUSED");
    assertTrue(Files.exists(Exports.part(paused)));
    Response again = given().queryParam("taskId", paused).post("/download/terminate");
    assertEquals(202, again.statusCode(), again.asString());
    assertEquals("TERMINATED", again.jsonPath().getString("state"));
    assertFalse(Files.exists(Exports.part(paused)), "no .part file");
    assertFalse(Files.exists(Exports.file(paused)), "no .csv file");

    assertRefused(given().queryParam("taskId", running).post("/download/resume"), "TERMINATED");
    assertRefused(post("/download/terminate"), "TERMINATED");
    assertEquals(
        fingerprint,
        Db.single(
            "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM public.compat_down_term t"),
        "the table is unchanged");
  }

  @Test
  void downloadResumeOfARunningExportIsRefused() {
    downloadTable("compat_down_running");
    String id = Exports.start("/download/start", Map.of("table", "compat_down_running"));
    JsonPath reached = Api.awaitRows(id, 500);
    assertEquals("RUNNING", reached.getString("state"));
    assertRefused(post("/download/resume"), "RUNNING");
    assertEquals(202, post("/download/terminate").statusCode());
    Api.awaitState(id, "TERMINATED");
  }

  @Test
  void downloadStartBadInput() {
    downloadTable("compat_down_bad");
    long tasks = Db.count("SELECT count(*) FROM tsm.task");
    assertProblem(startBody(Map.of("table", "pg_catalog.pg_class")), 400, "schema 'pg_catalog'");
    assertProblem(startBody(Map.of("table", "tsm.task")), 400, "schema 'tsm'");
    assertProblem(startBody(Map.of("table", "x; drop table y")), 400, "not a valid table name");
    assertProblem(startBody(Map.of("table", "compat_nowhere")), 404, "there is no table");
    assertProblem(
        startBody(Map.of("table", "compat_down_bad", "columns", List.of("nope"))),
        400,
        "has no column [nope]");
    assertProblem(startBody(Map.of("delimiter", ";")), 400, "'table'");
    assertProblem(
        given().contentType("application/json").body("{not json").post("/download/start"),
        400,
        "not valid JSON");
    assertProblem(
        given().contentType("application/json").post("/download/start"),
        400,
        "the body must be JSON");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no task was created");
  }

  private static Response startBody(Map<String, ?> body) {
    return given().contentType("application/json").body(body).post("/download/start");
  }
}
