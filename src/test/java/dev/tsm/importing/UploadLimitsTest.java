package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Multipart;
import dev.tsm.support.RawResponse;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.Staged;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What bounds an upload in time and in number: a client that goes silent (before its first byte,
 * mid-body, after its task started loading, in a multipart body) gets 408 after the idle deadline
 * and leaves nothing behind, no thread waiting for it; beyond the concurrent-upload limit the next
 * upload gets 503 at once while the API keeps answering. Profile: a 4 s idle deadline, 2 uploads.
 */
@QuarkusTest
@TestProfile(UploadLimitsTest.Limits.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class UploadLimitsTest {
  private static final Duration IDLE = Duration.ofSeconds(4);

  /** A short idle deadline, room for two uploads and two running tasks at once. */
  public static class Limits implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "tsm.import.idle-timeout",
          IDLE.toSeconds() + "s",
          "tsm.import.max-concurrent-uploads",
          "2",
          "tsm.runner.max-concurrent-tasks",
          "2");
    }
  }

  @Test
  void aClientSilentMidBodyGets408AndLeavesNothing() throws IOException {
    byte[] body = Files.readAllBytes(CsvFiles.mixed("idle-small.csv", 2000, 5));
    assertTrue(body.length < 1 << 20, "a body staged whole before its task exists");
    Set<Path> before = Staged.files();
    try (SlowUpload upload = SlowUpload.post("/imports?table=idle_small", "text/csv", body)) {
      upload.send(body.length / 2);
      long silentFrom = System.nanoTime();
      RawResponse r = upload.response(IDLE.multipliedBy(4));
      long waited = (System.nanoTime() - silentFrom) / 1_000_000;
      r.assertProblem(408, "sent nothing", "tsm.import.idle-timeout", "after " + body.length / 2);
      assertEquals("close", r.header("Connection"));
      assertTrue(waited >= IDLE.toMillis() - 100, "408 only after the deadline: " + waited);
      System.out.printf(
          "idle deadline %d ms: 408 after %d ms of silence%n", IDLE.toMillis(), waited);
    }
    Staged.assertNothingLeftFor("idle_small", before);
  }

  @Test
  void aClientSilentBeforeItsFirstByteGets408WhateverItsLength() throws IOException {
    byte[] small = Files.readAllBytes(CsvFiles.mixed("silent-first-small.csv", 100, 6));
    byte[] large = Files.readAllBytes(CsvFiles.mixed("silent-first-large.csv", 30_000, 7));
    assertTrue(large.length > 1 << 20, "a body whose sample is read while it arrives");
    Set<Path> before = Staged.files();
    try (SlowUpload quiet = SlowUpload.post("/imports?table=silent_small", "text/csv", small);
        SlowUpload quieter = SlowUpload.post("/imports?table=silent_large", "text/csv", large)) {
      quiet.response(IDLE.multipliedBy(4)).assertProblem(408, "sent nothing", "after 0 bytes");
      quieter.response(IDLE.multipliedBy(4)).assertProblem(408, "sent nothing", "after 0 bytes");
    }
    Staged.assertNothingLeftFor("silent_small", before);
    Staged.assertNothingLeftFor("silent_large", before);
    assertNoThreadWaitsForAnUpload();
  }

  @Test
  void aClientSilentAfterItsTaskStartedGets408AndTheTaskEndsTerminated() throws IOException {
    byte[] body = Files.readAllBytes(CsvFiles.mixed("silent-running.csv", 30_000, 8));
    Set<Path> before = Staged.files();
    String id;
    try (SlowUpload upload = SlowUpload.post("/imports?table=silent_running", "text/csv", body)) {
      upload.send(body.length * 3 / 5);
      id = Db.awaitTaskOf("silent_running");
      assertEquals("RUNNING", Api.awaitRows(id, 1).getString("state"));
      upload.response(IDLE.multipliedBy(4)).assertProblem(408, "sent nothing");
    }
    JsonPath ended = Api.awaitState(id, Duration.ofSeconds(30), "TERMINATED", "COMPLETED");
    assertEquals("TERMINATED", ended.getString("state"), ended.prettify());
    assertTrue(ended.getString("error").contains("sent nothing"), ended.getString("error"));
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table");
    assertFalse(Db.tableExists("public.silent_running"));
    await().atMost(Duration.ofSeconds(10)).until(() -> Staged.since(before).isEmpty());
    assertNoThreadWaitsForAnUpload();
  }

  @Test
  void aMultipartBodyIsStreamedAndBoundByTheSameDeadline() throws IOException {
    byte[] csv = Files.readAllBytes(CsvFiles.mixed("silent-multipart.csv", 30_000, 9));
    byte[] body = new Multipart().field("note", "first").file("file", "s.csv", csv).bytes();
    Set<Path> before = Staged.files();
    try (SlowUpload upload =
        SlowUpload.post("/imports?table=idle_multipart", Multipart.CONTENT_TYPE, body)) {
      upload.send(body.length * 2 / 3);
      // The file part reaches the store while the body arrives: nothing holds it whole.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Staged.since(before).stream().anyMatch(p -> size(p) >= 1 << 20));
      upload.response(IDLE.multipliedBy(4)).assertProblem(408, "sent nothing");
    }
    Staged.assertNothingLeftFor("idle_multipart", before);
  }

  @Test
  void beyondTheUploadLimitTheNextGets503AtOnceWhileTheApiAnswersWithinASecond()
      throws IOException {
    // Every pool full: both runner slots (two exports of a table that takes minutes at the test
    // profile's pace), a task queued behind them, and, below, both upload slots held by silent
    // clients.
    Db.execute(
        "CREATE TABLE bulkhead_export AS SELECT g AS id, md5(g::text) AS t"
            + " FROM generate_series(1, 1500000) g");
    Db.execute("ALTER TABLE bulkhead_export ADD PRIMARY KEY (id)");
    String first = startExport("bulkhead_export");
    String second = startExport("bulkhead_export");
    assertEquals("RUNNING", Api.awaitRows(first, 1).getString("state"));
    assertEquals("RUNNING", Api.awaitRows(second, 1).getString("state"));
    String queued = startExport("bulkhead_export");
    assertEquals("PENDING", Api.state(queued), "no runner slot is free");
    List<Runnable> api =
        List.of(
            () -> given().get("/tasks/" + first).then().statusCode(200),
            () -> given().get("/tasks").then().statusCode(200),
            () -> Api.management().get("/q/health/ready").then().statusCode(200));
    // Warmed up, commands included (on the queued task, which takes no slot): what is measured
    // below is the pools' effect.
    api.forEach(Runnable::run);
    Api.command(queued, "pause").then().statusCode(202);
    Api.command(queued, "resume").then().statusCode(202);
    assertEquals("PENDING", Api.state(queued));
    byte[] small = Files.readAllBytes(CsvFiles.mixed("held-small.csv", 100, 11));
    byte[] large = Files.readAllBytes(CsvFiles.mixed("held-large.csv", 30_000, 12));
    Set<Path> before = Staged.files();
    try (SlowUpload heldSmall = SlowUpload.post("/imports?table=held_small", "text/csv", small);
        SlowUpload heldLarge = SlowUpload.post("/imports?table=held_large", "text/csv", large)) {
      // Both are admitted once their staged files are open.
      await().atMost(Duration.ofSeconds(5)).until(() -> Staged.since(before).size() == 2);

      long asked = System.nanoTime();
      try (SlowUpload refused = SlowUpload.post("/imports?table=refused", "text/csv", small);
          SlowUpload refusedMultipart =
              SlowUpload.post(
                  "/upload/start?table=refused",
                  Multipart.CONTENT_TYPE,
                  new Multipart().file("file", "r.csv", small).bytes())) {
        refused.head(Duration.ofSeconds(1));
        long answered = (System.nanoTime() - asked) / 1_000_000;
        System.out.printf("503 beyond the upload limit answered in %d ms%n", answered);

        assertEquals("RUNNING", Api.state(first), "the runner's slots are taken");
        assertEquals("RUNNING", Api.state(second));
        assertEquals("PENDING", Api.state(queued));
        timed("GET /tasks/{id}", api.get(0));
        timed("GET /tasks", api.get(1));
        timed("POST /tasks/{id}/pause", () -> Api.command(first, "pause").then().statusCode(202));
        timed("GET /q/health/ready", api.get(2));
        timed("GET /tables", () -> given().get("/tables").then().statusCode(200));
        timed("POST /exports", () -> Api.command(startExport("bulkhead_export"), "terminate"));

        for (SlowUpload r : List.of(refused, refusedMultipart)) {
          // Connection closed after the answer, the body never read.
          RawResponse busy = r.response(Duration.ofSeconds(5));
          busy.assertProblem(503, "tsm.import.max-concurrent-uploads");
          assertEquals("5", busy.header("Retry-After"));
          assertEquals("close", busy.header("Connection"));
        }
      }
      heldSmall.response(IDLE.multipliedBy(4)).assertProblem(408, "sent nothing");
      heldLarge.response(IDLE.multipliedBy(4)).assertProblem(408, "sent nothing");
    }
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name LIKE 'held_%'"));
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name = 'refused'"));

    // The exports made their point: they give their slots back to what follows.
    for (String export : List.of(first, second, queued)) {
      Api.command(export, "terminate").then().statusCode(202);
      Api.awaitState(export, "TERMINATED");
    }

    Path file = CsvFiles.mixed("after-bulkhead.csv", 500, 13);
    String next = Api.startImport("after_bulkhead", file);
    assertEquals("COMPLETED", Api.awaitState(next, "COMPLETED", "FAILED").getString("state"));
    Db.copyReference("ref_after_bulkhead", "public.after_bulkhead", file, ", HEADER true");
    Db.assertSameRows("ref_after_bulkhead", "public.after_bulkhead");
  }

  private static String startExport(String table) {
    return given()
        .contentType("application/json")
        .body("{\"table\": \"" + table + "\"}")
        .post("/exports")
        .then()
        .statusCode(202)
        .extract()
        .jsonPath()
        .getString("id");
  }

  /** A test that failed half-way must not leave its exports holding the runner's slots. */
  @AfterEach
  void freeTheRunner() {
    for (List<String> row :
        Db.rows(
            "SELECT id::text FROM tsm.task WHERE state NOT IN ('COMPLETED', 'TERMINATED',"
                + " 'FAILED')")) {
      Api.command(row.get(0), "terminate");
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Db.count(
                        "SELECT count(*) FROM tsm.task WHERE state IN ('PENDING', 'RUNNING',"
                            + " 'PAUSED')")
                    == 0);
  }

  /** Runs an API call that must answer within a second; prints how long it took. */
  private static void timed(String what, Runnable call) {
    long start = System.nanoTime();
    call.run();
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("with every pool full, %s answered in %d ms%n", what, millis);
    assertTrue(millis < 1000, what + " took " + millis + " ms");
  }

  /** No thread is left waiting for bytes of an upload that will never come. */
  private static void assertNoThreadWaitsForAnUpload() {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Thread.getAllStackTraces().values().stream()
                    .flatMap(Arrays::stream)
                    .noneMatch(
                        f ->
                            f.getClassName().equals("dev.tsm.csv.Upload")
                                && f.getMethodName().equals("await")));
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0; // gone meanwhile
    }
  }
}
