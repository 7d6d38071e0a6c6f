package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertMentions;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Shapes that once hung or exhausted the service: wide rows in files over the size where a body
 * loads while it arrives but with fewer rows than the type sample, a flood of bad rows, huge
 * numbers, header names PostgreSQL reserves. Each ends in a clear answer within bounded time, and
 * what loads equals {@code psql \copy} of the same file.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportBoundsTest {
  private static final int SAMPLE_ROWS =
      ConfigProvider.getConfig().getValue("tsm.import.sample-rows", Integer.class);
  private static final int STORED_REJECTS =
      ConfigProvider.getConfig().getValue("tsm.import.max-stored-rejects", Integer.class);
  private static final long MAX_FIELD =
      ConfigProvider.getConfig()
          .getValue("tsm.import.max-field-size", io.quarkus.runtime.configuration.MemorySize.class)
          .asLongValue();
  private static final Duration ANSWER = Duration.ofSeconds(30);

  /** Files over 1 MiB whose rows are fewer than the sample: the answer must not wait for more. */
  @ParameterizedTest(name = "{0} rows of {1} bytes, {2}")
  @CsvSource({
    "500, 2400, whole",
    "500, 2400, growing",
    "300, 10000, whole",
    "300, 10000, growing",
    "25, 45000, whole",
    "25, 45000, growing",
    "3, 400000, whole"
  })
  void fewWideRowsOverTheFollowSizeAreAnsweredAndLoaded(int rows, int width, String arrival)
      throws Exception {
    assertTrue(rows < SAMPLE_ROWS, "fewer rows than the sample");
    String table = "wide_" + rows + "_" + width + "_" + arrival;
    Path file = wideFile(table + ".csv", rows, width, rows * 31L + width);
    byte[] body = Files.readAllBytes(file);
    assertTrue(body.length > 1 << 20, "over the follow size: " + body.length);
    String id = arrival.equals("whole") ? postWithin(table, body) : sendSlowly(table, body);
    JsonPath done = Api.awaitState(id, ANSWER, "COMPLETED", "FAILED");
    if (width > MAX_FIELD) {
      // Over the test profile's field limit: every row is bad, and the fail policy says so.
      assertEquals("FAILED", done.getString("state"), done.prettify());
      assertMentions(done.getString("error"), List.of("line 2", "over the limit"));
      return;
    }
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(rows, done.getLong("rowsDone"));
    Db.copyReference("ref_" + table, "public." + table, file, ", HEADER true");
    Db.assertSameRows("ref_" + table, "public." + table);
  }

  @Test
  void hugeNumbersAreTypedInOnePassAndLoaded() throws Exception {
    // 40 rows whose first field is a 60,000-digit number (the test profile takes fields up to
    // 64K; the packaged service's own tests go to 200,000 digits).
    Random random = new Random(5);
    StringBuilder csv = new StringBuilder("n,label\n");
    for (int i = 0; i < 40; i++) {
      csv.append(1 + random.nextInt(9));
      for (int d = 1; d < 60_000; d++) {
        csv.append((char) ('0' + random.nextInt(10)));
      }
      csv.append(",row ").append(i).append('\n');
    }
    Path file = CsvFiles.write("huge_numbers.csv", csv.toString());
    String id = postWithin("huge_numbers", Files.readAllBytes(file));
    JsonPath done = Api.awaitState(id, ANSWER, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(
        List.of(List.of("n", "numeric"), List.of("label", "text")),
        Db.columns("public.huge_numbers"));
    Db.copyReference("ref_huge_numbers", "public.huge_numbers", file, ", HEADER true");
    Db.assertSameRows("ref_huge_numbers", "public.huge_numbers");
  }

  @Test
  void aFloodOfBadRowsUnderFailEndsAtTheFirstOne() throws Exception {
    byte[] body = ("a,b\n1,x\n" + "lonely\n".repeat(500_000)).getBytes(StandardCharsets.UTF_8);
    String id = postWithin("bad_flood_fail", body);
    JsonPath failed = Api.awaitState(id, ANSWER, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"));
    assertMentions(failed.getString("error"), List.of("line 3", "expected 2 fields, found 1"));
    assertFalse(Db.tableExists("public.bad_flood_fail"));
  }

  @Test
  void underFailTheFirstBadRowInFileOrderIsNamedWhicheverFindsIt() {
    // Past the type sample, in one batch: a value PostgreSQL refuses, then a row the scanner
    // refuses two lines later. The earlier one is the first bad row.
    StringBuilder csv = new StringBuilder("id,n\n");
    int good = SAMPLE_ROWS + 100;
    for (int i = 1; i <= good; i++) {
      csv.append(i).append(',').append(i * 10).append('\n');
    }
    csv.append("x,abc\n").append("y,1\n").append("short\n").append("z,2\n");
    String id = Api.startImport("first_bad", CsvFiles.write("first_bad.csv", csv.toString()));
    JsonPath failed = Api.awaitState(id, ANSWER, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"));
    assertMentions(failed.getString("error"), List.of("line " + (good + 2), "integer"));
  }

  @Test
  void aBareCarriageReturnIsABadRowAsPsqlSaysNotTwoRows() {
    // PostgreSQL ends a line at a CR outside quotes: that record would arrive as two rows.
    String csv = "a\nx\ny\rz\nlast\r";
    Path file = CsvFiles.write("bare_cr.csv", csv);
    String id = Api.startImport("bare_cr", file, Map.of("onError", "skip"));
    JsonPath done = Api.awaitState(id, ANSWER, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(1, done.getLong("rowsDone"));
    assertEquals(2, done.getLong("rowsSkipped"));
    assertEquals(List.of(List.of("x")), Db.rows("SELECT a FROM public.bare_cr"));
    String rejects = given().get("/tasks/" + id + "/rejects").asString();
    assertMentions(rejects, List.of("3,\"a carriage return", "4,\"a carriage return"));
    // psql refuses the same file, naming that character.
    Db.execute("CREATE TABLE ref_bare_cr (a text)");
    IllegalStateException psql =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () ->
                Db.psql(
                    "\\copy ref_bare_cr FROM '"
                        + file.toAbsolutePath()
                        + "' WITH (FORMAT csv, HEADER true)"));
    assertMentions(psql.getMessage(), List.of("unquoted carriage return"));
  }

  @Test
  void rejectsAreStoredUpToTheCapAndStreamedInOrder() {
    int bad = STORED_REJECTS + STORED_REJECTS / 2 + 7;
    StringBuilder csv = new StringBuilder("a,b\n");
    int good = 0;
    for (int i = 0; i < bad; i++) {
      csv.append("only").append(i).append('\n');
      if (i % 3 == 0) {
        csv.append(i).append(",ok\n");
        good++;
      }
    }
    Path file = CsvFiles.write("rejects_cap.csv", csv.toString());
    String id = Api.startImport("rejects_cap", file, Map.of("onError", "skip"));
    JsonPath done = Api.awaitState(id, ANSWER, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(good, done.getLong("rowsDone"));
    assertEquals(bad, done.getLong("rowsSkipped"), "every bad row is counted");

    Response r = given().get("/tasks/" + id + "/rejects");
    assertEquals(200, r.statusCode());
    assertTrue(r.contentType().startsWith("text/csv"), r.contentType());
    assertEquals("chunked", r.header("Transfer-Encoding"), "streamed, not built whole");
    String[] lines = r.asString().split("\n");
    assertEquals("line,reason,record", lines[0]);
    assertEquals(STORED_REJECTS, lines.length - 1, "stored up to the cap");
    // The first bad rows, in file order, across the pages the body is read in.
    long previous = 0;
    for (int i = 1; i < lines.length; i++) {
      long line = Long.parseLong(lines[i].substring(0, lines[i].indexOf(',')));
      assertTrue(line > previous, "in order: " + lines[i]);
      assertTrue(lines[i].endsWith(",\"only" + (i - 1) + "\""), lines[i]);
      previous = line;
    }
  }

  @Test
  void rejectsOfAnUnknownTaskAre404() {
    String id = "0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10";
    assertProblem(given().get("/tasks/" + id + "/rejects"), 404, "no task", id);
  }

  @ParameterizedTest
  @CsvSource({"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"})
  void headersNamingSystemColumnsAre400(String name) {
    Response r =
        given()
            .contentType("text/csv")
            .queryParam("table", "sys_" + name)
            .body("id," + name + "\n1,2\n")
            .post("/imports");
    assertProblem(r, 400, name, "system column");
    assertFalse(Db.tableExists("public.sys_" + name));
  }

  @Test
  void systemColumnNamesInAnotherCaseAreOrdinaryColumns() {
    String id = Api.startImport("sys_upper", CsvFiles.write("sys_upper.csv", "id,CTID\n1,2\n"));
    assertEquals("COMPLETED", Api.awaitState(id, ANSWER, "COMPLETED", "FAILED").getString("state"));
    assertEquals(List.of(List.of("1", "2")), Db.rows("SELECT id, \"CTID\" FROM public.sys_upper"));
  }

  @Test
  void concurrentCreatesOfOneTableGetOneTaskAndClearConflicts() throws Exception {
    byte[] body = "id,name\n1,a\n2,b\n".getBytes(StandardCharsets.UTF_8);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Response>> answers = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        answers.add(
            pool.submit(
                () ->
                    given()
                        .contentType("text/csv")
                        .queryParam("table", "raced")
                        .body(body)
                        .post("/imports")));
      }
      int accepted = 0;
      String id = null;
      for (Future<Response> answer : answers) {
        Response r = answer.get(ANSWER.toSeconds(), TimeUnit.SECONDS);
        if (r.statusCode() == 202) {
          accepted++;
          id = r.jsonPath().getString("id");
        } else {
          assertProblem(r, 409, "raced");
        }
      }
      assertEquals(1, accepted, "one create wins");
      assertEquals("COMPLETED", Api.awaitState(id, ANSWER, "COMPLETED").getString("state"));
      assertEquals(2, Db.count("SELECT count(*) FROM public.raced"));
    } finally {
      pool.shutdownNow();
    }
  }

  /** A header then rows of about {@code width} bytes: a number, a quoted text with commas. */
  private static Path wideFile(String name, int rows, int width, long seed) {
    Random random = new Random(seed);
    StringBuilder csv = new StringBuilder("id,note,flag\n");
    for (int i = 1; i <= rows; i++) {
      StringBuilder note = new StringBuilder();
      while (note.length() < width) {
        note.append(random.nextBoolean() ? "word, " : "Zoë \"q\" ").append(random.nextInt(1000));
      }
      csv.append(i)
          .append(",\"")
          .append(note.toString().replace("\"", "\"\""))
          .append("\",")
          .append(random.nextBoolean())
          .append('\n');
    }
    return CsvFiles.write(name, csv.toString());
  }

  /** POST /imports with a declared length; the 202 must come within {@link #ANSWER}. */
  private static String postWithin(String table, byte[] body) throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Response> answer =
          pool.submit(
              () ->
                  given()
                      .contentType("text/csv")
                      .queryParam("table", table)
                      .body(body)
                      .post("/imports"));
      Response r = answer.get(ANSWER.toSeconds(), TimeUnit.SECONDS);
      assertEquals(202, r.statusCode(), r.asString());
      return r.jsonPath().getString("id");
    } finally {
      pool.shutdownNow();
    }
  }

  /** The body sent in pieces with pauses, as a slow client sends it. */
  private static String sendSlowly(String table, byte[] body) throws Exception {
    try (SlowUpload upload = SlowUpload.start("table=" + table, body)) {
      Random random = new Random(body.length);
      while (upload.sent() < body.length - 1) {
        upload.send(1 + random.nextInt(256 << 10));
        Waits.pause(random.nextInt(60)); // a slow client's pacing, not a wait for anything
      }
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        String response = pool.submit(upload::finish).get(ANSWER.toSeconds(), TimeUnit.SECONDS);
        assertTrue(response.startsWith("HTTP/1.1 202"), response);
        int at = response.indexOf("\"id\":\"") + 6;
        return response.substring(at, response.indexOf('"', at));
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
