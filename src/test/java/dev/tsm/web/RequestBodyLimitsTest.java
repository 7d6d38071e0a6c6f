package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.RawResponse;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Bodies the service does not stage: JSON export requests are bounded (64 KiB by default, refused
 * before or while they are read, never parsed whole), an export naming more columns than a table
 * can have is refused, and the HTTP layer's own limit on any declared body answers problem+json. A
 * client that asks before sending ({@code Expect: 100-continue}) is told to go on only when its
 * upload is accepted.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class RequestBodyLimitsTest {
  private static final int JSON_LIMIT = 64 * 1024;

  /** An export request of {@code table} naming {@code columns} columns. */
  private static String exportOf(String table, int columns) {
    return "{\"table\": \""
        + table
        + "\", \"columns\": "
        + IntStream.range(0, columns)
            .mapToObj(i -> "\"c" + i + "\"")
            .collect(Collectors.joining(",", "[", "]"))
        + "}";
  }

  @Test
  void aJsonBodyOverTheLimitIs413DeclaredOrChunked() {
    String big = exportOf("json_limits", 10_000);
    assertTrue(big.length() > JSON_LIMIT, "over the limit: " + big.length());
    for (String path : new String[] {"/exports", "/download/start"}) {
      Response declared = given().contentType("application/json").body(big).post(path);
      assertProblem(declared, 413, "JSON body", String.valueOf(JSON_LIMIT), "max-json-body-size");
      Response chunked =
          given()
              .contentType("application/json")
              .body(new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))
              .post(path);
      assertProblem(chunked, 413, "JSON body", "max-json-body-size");
    }
    // A request under the limit is read as usual.
    Response small =
        given().contentType("application/json").body("{\"table\": \"nowhere\"}").post("/exports");
    assertProblem(small, 404, "nowhere");
  }

  @Test
  void moreColumnsThanATableCanHaveIs400() {
    Db.execute("CREATE TABLE public.wide_export (c0 integer)");
    String body = exportOf("wide_export", 1601);
    assertTrue(body.length() < JSON_LIMIT, "under the byte limit: " + body.length());
    Response r = given().contentType("application/json").body(body).post("/exports");
    assertProblem(r, 400, "'columns'", "1601", "at most 1600");
  }

  @Test
  void theHttpLayersOwnLimitIsAProblemToo() {
    // A JSON body declared past it is refused here too, before the JSON limit is looked at.
    for (String[] target :
        new String[][] {
          {"/imports?table=huge", "text/csv"},
          {"/exports", "text/csv"},
          {"/exports", "application/json"}
        }) {
      String head =
          "POST "
              + target[0]
              + " HTTP/1.1\r\nHost: localhost\r\n"
              + Auth.headerLine()
              + "Content-Type: "
              + target[1]
              + "\r\n"
              + "Content-Length: "
              + (100L << 20)
              + "\r\n\r\n";
      try (SlowUpload huge = SlowUpload.open(RestAssured.port, head, new byte[0])) {
        RawResponse r = huge.response(Duration.ofSeconds(10));
        r.assertProblem(413, "larger than the limit", "quarkus.http.limits.max-body-size");
        assertEquals("close", r.header("Connection"));
      }
    }
  }

  @Test
  void aClientExpectingContinueIsToldToSendOnlyWhenAccepted() throws IOException {
    byte[] csv = Files.readAllBytes(CsvFiles.mixed("expect.csv", 300, 4));
    try (SlowUpload upload =
        SlowUpload.open(RestAssured.port, expecting("expect_continue", csv.length), csv)) {
      assertTrue(upload.head(Duration.ofSeconds(5)).startsWith("HTTP/1.1 100 Continue"));
      upload.send(csv.length);
      RawResponse r = upload.response(Duration.ofSeconds(30));
      assertEquals(202, r.status(), r.body());
      String id = JsonPath.from(r.body()).getString("id");
      assertEquals("COMPLETED", Api.awaitState(id, "COMPLETED", "FAILED").getString("state"));
    }
    try (SlowUpload refused =
        SlowUpload.open(RestAssured.port, expecting("1bad", csv.length), csv)) {
      // Refused before the body: no 100 Continue, the final answer at once.
      assertTrue(refused.head(Duration.ofSeconds(5)).startsWith("HTTP/1.1 400"));
      refused.response(Duration.ofSeconds(10)).assertProblem(400, "not a valid table name");
    }
  }

  @Test
  void theApiDescriptionListsEveryLimitsAnswer() {
    JsonPath api =
        given().get("/q/openapi?format=json").then().statusCode(200).extract().jsonPath();
    for (String path : new String[] {"/imports", "/upload/start"}) {
      Map<String, Map<String, Object>> responses =
          api.getMap("paths.'" + path + "'.post.responses");
      for (String status : new String[] {"408", "413", "503", "507"}) {
        assertTrue(responses.containsKey(status), path + " documents " + status);
        assertTrue(responses.get(status).toString().contains("problem+json"), path + " " + status);
      }
      assertTrue(
          responses.get("503").toString().contains("Retry-After"), path + " 503 Retry-After");
    }
    for (String path : new String[] {"/exports", "/download/start"}) {
      assertTrue(
          api.getMap("paths.'" + path + "'.post.responses").containsKey("413"),
          path + " documents 413");
    }
  }

  private static String expecting(String table, int length) {
    return "POST /imports?table="
        + table
        + " HTTP/1.1\r\nHost: localhost\r\n"
        + Auth.headerLine()
        + "Content-Type: text/csv\r\nContent-Length: "
        + length
        + "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
  }
}
