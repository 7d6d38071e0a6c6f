package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.retention.RetentionSweep;
import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Idempotency-Key on the requests that create tasks, against the real database over HTTP: a repeat
 * answers the first request's task and creates nothing; another request under the key is refused;
 * keys are per caller and expire.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class IdempotencyKeyTest {
  private static final String CSV = "id,name\n1,Ada\n2,Grace\n3,Edsger\n";

  @Inject RetentionSweep sweep;

  @Test
  void aRepeatedImportAnswersTheFirstTaskAndCreatesNothing() {
    Path file = CsvFiles.write("idem-import.csv", CSV);
    String key = newKey();
    Response first = importing(given(), key, "idem_import", file);
    first.then().statusCode(202);
    String id = first.jsonPath().getString("id");
    Api.awaitState(id, "COMPLETED");
    long tasks = Db.count("SELECT count(*) FROM tsm.task");

    Response again = importing(given(), key, "idem_import", file);
    again.then().statusCode(202).header("Location", first.header("Location"));
    assertEquals(id, again.jsonPath().getString("id"));
    assertEquals("COMPLETED", again.jsonPath().getString("state"));
    assertEquals("close", again.header("Connection"), "the repeat's body is left unread");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no second task");
    assertEquals(3, Db.count("SELECT count(*) FROM public.idem_import"), "no second load");

    // A multipart repeat is the same request though its boundary differs.
    String multipartKey = newKey();
    String multipart = multipart(multipartKey, "idem_multipart", file);
    Api.awaitState(multipart, "COMPLETED");
    assertEquals(multipart, multipart(multipartKey, "idem_multipart", file));
  }

  @Test
  void theSameKeyOnADifferentRequestIs422() {
    Path file = CsvFiles.write("idem-other.csv", CSV);
    String key = newKey();
    importing(given(), key, "idem_other", file).then().statusCode(202);
    long tasks = Db.count("SELECT count(*) FROM tsm.task");

    String detail =
        assertProblem(
                importing(given(), key, "idem_other_2", file), 422, "Idempotency-Key", "different")
            .getString("detail");
    assertTrue(detail.contains("different request"), detail);
    assertProblem(
        given()
            .header("Idempotency-Key", key)
            .contentType("application/json")
            .body("{\"table\": \"idem_other\"}")
            .post("/exports"),
        422,
        "different");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "nothing created");
    assertEquals(false, Db.tableExists("public.idem_other_2"));
  }

  @Test
  void aRepeatedExportAnswersTheFirstTaskWhateverTheJsonSpacing() {
    Db.execute("CREATE TABLE idem_export (id int PRIMARY KEY, name text)");
    Db.execute("INSERT INTO idem_export VALUES (1, 'a'), (2, 'b')");
    String key = newKey();
    Response first = exporting(given(), key, "{\"table\": \"idem_export\", \"header\": true}");
    first.then().statusCode(202);
    String id = first.jsonPath().getString("id");
    long tasks = Db.count("SELECT count(*) FROM tsm.task");

    Response again = exporting(given(), key, "{ \"header\":true,\n \"table\":\"idem_export\" }");
    again.then().statusCode(202).header("Location", first.header("Location"));
    assertEquals(id, again.jsonPath().getString("id"));
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no second task");

    assertProblem(
        exporting(given(), key, "{\"table\": \"idem_export\", \"header\": false}"),
        422,
        "different");
  }

  @Test
  void keysArePerCaller() {
    Db.execute("CREATE TABLE idem_callers (id int PRIMARY KEY)");
    String key = newKey();
    String body = "{\"table\": \"idem_callers\"}";
    Response alice = exporting(given(), key, body);
    Response bob = exporting(Auth.as(Auth.BOB), key, body);
    alice.then().statusCode(202);
    bob.then().statusCode(202);
    assertNotEquals(alice.jsonPath().getString("id"), bob.jsonPath().getString("id"));
    assertEquals(
        bob.jsonPath().getString("id"),
        exporting(Auth.as(Auth.BOB), key, body).jsonPath().getString("id"));
  }

  @Test
  void aRepeatedTusCreationAnswersTheFirstUpload() {
    String key = newKey();
    String metadata =
        "table " + Base64.getEncoder().encodeToString("idem_tus".getBytes(StandardCharsets.UTF_8));
    Response first = tusCreation(key, metadata, 20);
    first.then().statusCode(201);
    long tasks = Db.count("SELECT count(*) FROM tsm.task");

    Response again = tusCreation(key, metadata, 20);
    again
        .then()
        .statusCode(201)
        .header("Location", first.header("Location"))
        .header("Link", first.header("Link"))
        .header("Upload-Offset", "0")
        .header("Tus-Resumable", "1.0.0");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no second upload");

    assertProblem(tusCreation(key, metadata, 21), 422, "different");
    String otherDelimiter =
        metadata + ",delimiter " + Base64.getEncoder().encodeToString(";".getBytes(UTF_8));
    assertProblem(tusCreation(key, otherDelimiter, 20), 422, "different");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "nothing created");
  }

  @Test
  void aRepeatWhileTheFirstIsInFlightIs409() {
    String key = newKey();
    String body = "{\"table\": \"idem_flight\"}";
    Db.execute("CREATE TABLE idem_flight (id int PRIMARY KEY)");
    exporting(given(), key, body).then().statusCode(202);
    // As if the first request were still receiving its body: claimed, no task yet.
    Db.execute("UPDATE tsm.idempotency_key SET task_id = NULL WHERE key = '" + key + "'");
    assertProblem(exporting(given(), key, body), 409, "in progress", "retry");
  }

  @Test
  void anExpiredKeyActsAsNewAndTheSweepDeletesIt() {
    Db.execute("CREATE TABLE idem_expiry (id int PRIMARY KEY)");
    String key = newKey();
    String body = "{\"table\": \"idem_expiry\"}";
    String first = exporting(given(), key, body).jsonPath().getString("id");
    Db.execute(
        "UPDATE tsm.idempotency_key SET created_at = now() - interval '25 hours'"
            + " WHERE key = '"
            + key
            + "'");
    await().atMost(Duration.ofSeconds(30)).until(() -> sweep.sweep() != null);
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.idempotency_key WHERE key = '" + key + "'"));

    String second = exporting(given(), key, body).jsonPath().getString("id");
    assertNotEquals(first, second, "an expired key is new");

    // Expired but not swept yet: new too.
    Db.execute(
        "UPDATE tsm.idempotency_key SET created_at = now() - interval '25 hours'"
            + " WHERE key = '"
            + key
            + "'");
    assertNotEquals(second, exporting(given(), key, body).jsonPath().getString("id"));
  }

  @Test
  void aMalformedKeyIs400() {
    Path file = CsvFiles.write("idem-bad.csv", CSV);
    for (String bad : new String[] {"has space", "x".repeat(256), "tab\there"}) {
      assertProblem(importing(given(), bad, "idem_bad", file), 400, "Idempotency-Key");
    }
    assertProblem(exporting(given(), "a b", "{\"table\": \"idem_bad\"}"), 400, "Idempotency-Key");
    assertProblem(
        exporting(given().header("Idempotency-Key", "one"), "two", "{\"table\": \"idem_bad\"}"),
        400,
        "one Idempotency-Key");
    assertEquals(false, Db.tableExists("public.idem_bad"));
    // 255 visible characters are a key.
    importing(given(), "~".repeat(255), "idem_bad", file).then().statusCode(202);
  }

  @Test
  void aFailedFirstRequestGivesItsKeyBack() {
    String key = newKey();
    String body = "{\"table\": \"idem_later\"}";
    exporting(given(), key, body).then().statusCode(404);
    Db.execute("CREATE TABLE idem_later (id int PRIMARY KEY)");
    exporting(given(), key, body).then().statusCode(202);
  }

  private static String newKey() {
    return UUID.randomUUID().toString();
  }

  private static Response importing(RequestSpecification as, String key, String table, Path file) {
    return as.header("Idempotency-Key", key)
        .contentType("text/csv")
        .queryParam("table", table)
        .body(file.toFile())
        .post("/imports");
  }

  private static String multipart(String key, String table, Path file) {
    Response r =
        given()
            .header("Idempotency-Key", key)
            .multiPart("file", file.toFile(), "text/csv")
            .queryParam("table", table)
            .post("/imports");
    r.then().statusCode(202);
    return r.jsonPath().getString("id");
  }

  private static Response exporting(RequestSpecification as, String key, String json) {
    return as.header("Idempotency-Key", key)
        .contentType("application/json")
        .body(json)
        .post("/exports");
  }

  private static Response tusCreation(String key, String metadata, long length) {
    return given()
        .header("Tus-Resumable", "1.0.0")
        .header("Idempotency-Key", key)
        .header("Upload-Length", String.valueOf(length))
        .header("Upload-Metadata", metadata)
        .post("/uploads");
  }
}
