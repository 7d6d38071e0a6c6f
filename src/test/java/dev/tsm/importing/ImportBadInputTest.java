package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertMentions;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input, end to end: what is refused at once (problem+json, nothing staged, nothing created),
 * and what is found mid-file, after several batches were committed, under each error policy. Test
 * profile: small batches (tsm.import.batch-rows), fields up to 64K, 50 columns, bodies up to 4M.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportBadInputTest {
  private static final Path IMPORTS = Path.of("target", "test-files", "imports");
  private static final int ROWS = 3000;
  private static final int BATCH_ROWS =
      org.eclipse.microprofile.config.ConfigProvider.getConfig()
          .getValue("tsm.import.batch-rows", Integer.class);
  private static final int FIRST_BAD = 2000;
  private static final int SECOND_BAD = 2600;
  private static final int MAX_FIELD = 64 * 1024;

  // ---- Refused at once: the request itself is wrong ---------------------------------------

  @Test
  void emptyBodyIs400() {
    Set<String> before = stagedFiles();
    Response r = postCsv(new byte[0], Map.of("table", "empty_body"));
    assertProblem(r, 400, "body", "empty");
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public.empty_body"));
  }

  @Test
  void aBinaryFileIsNotACsvTextFile() {
    byte[] png =
        java.util.Base64.getDecoder()
            .decode(
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                    + "AAAABJRU5ErkJggg==");
    Set<String> before = stagedFiles();
    assertProblem(
        postCsv(png, Map.of("table", "picture")), 400, "not a CSV text file", "PNG image");
    byte[] nul = bytes("id,\u0000\u0001\u0002\n1,2\n");
    assertProblem(postCsv(nul, Map.of("table", "nul_bytes")), 400, "not a CSV text file");
    assertProblem(
        given().contentType("text/csv").body(png).post("/imports/preview"),
        400,
        "not a CSV text file");
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public.picture"));
    // a Latin-1 text file is text: its header's bad UTF-8 is named
    assertProblem(postCsv(latin1Header(), Map.of("table", "latin")), 400, "header", "UTF-8");
  }

  /**
   * A text header over the column limit, with a NUL in a row below it within the file's first KiB
   * (found by ImportExploreTest, seed random/8233141529303707877): the header's own error is named,
   * not "binary data". Control bytes count as binary only in the first record.
   */
  @Test
  void aTextHeaderOverTheColumnLimitIsNamedEvenWithANulInARowBelow() {
    int max =
        org.eclipse.microprofile.config.ConfigProvider.getConfig()
            .getValue("tsm.import.max-columns", Integer.class);
    String header =
        java.util.stream.IntStream.rangeClosed(1, max + 1)
            .mapToObj(i -> "c" + i)
            .collect(java.util.stream.Collectors.joining(","));
    byte[] body = bytes(header + "\n1,\u0000x\n");
    assertProblem(
        postCsv(body, Map.of("table", "wide_header_nul")),
        400,
        "header",
        "more than " + max + " fields");
    // A NUL in the first record itself is still a binary file.
    assertProblem(
        postCsv(bytes("id,na\u0000me\n1,2\n"), Map.of("table", "nul_header")),
        400,
        "not a CSV text file");
  }

  private static byte[] latin1Header() {
    return "caf\u00e9,name\n1,a\n".getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void headerOnlyIs400() {
    Set<String> before = stagedFiles();
    Response r = postCsv(bytes("id,name,amount\n"), Map.of("table", "header_only"));
    assertProblem(r, 400, "header", "no data");
    // Without a final line end, and with blank lines after the header: still no data.
    assertProblem(postCsv(bytes("id,name,amount"), Map.of("table", "header_only")), 400, "no data");
    assertProblem(
        postCsv(bytes("id,name,amount\n\n\r\n"), Map.of("table", "header_only")), 400, "no data");
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public.header_only"));
  }

  @Test
  void tableNameWithSqlIs400AndChangesNothing() {
    Db.execute("CREATE TABLE public.sql_victim (id integer)");
    Db.execute("INSERT INTO public.sql_victim VALUES (1), (2)");
    Set<String> before = stagedFiles();
    byte[] csv = bytes("id\n1\n");
    for (String name :
        List.of(
            "x; drop table sql_victim",
            "x\"; DROP TABLE sql_victim; --",
            "sql_victim; DROP TABLE sql_victim",
            "public.sql_victim;drop table sql_victim",
            "x'); DROP TABLE sql_victim; --",
            "1abc",
            "a.b.c")) {
      for (String mode : List.of("create", "append")) {
        Response r = postCsv(csv, Map.of("table", name, "mode", mode));
        assertProblem(r, 400, "not a valid table name");
      }
    }
    assertTrue(Db.tableExists("public.sql_victim"), "the table named in the SQL still exists");
    assertEquals(2, Db.count("SELECT count(*) FROM public.sql_victim"));
    assertNoNewStagedFile(before);
  }

  @Test
  void schemaOutsideTheAllowedOnesIs400() {
    long tasks = Db.count("SELECT count(*) FROM tsm.task");
    Response r = postCsv(bytes("id\n1\n"), Map.of("table", "tsm.task", "mode", "append"));
    assertProblem(r, 400, "schema", "tsm", "not open to clients");
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "tsm.task untouched");
  }

  @Test
  void createModeOnAnExistingTableIs409() {
    Db.execute("CREATE TABLE public.already_there (id integer)");
    Set<String> before = stagedFiles();
    byte[] csv = bytes("id\n1\n2\n");
    assertProblem(postCsv(csv, Map.of("table", "already_there")), 409, "already exists", "append");
    assertProblem(
        postCsv(csv, Map.of("table", "already_there", "mode", "create")),
        409,
        "public.already_there",
        "already exists");
    assertNoNewStagedFile(before);
    assertEquals(0, Db.count("SELECT count(*) FROM public.already_there"));
  }

  @Test
  void appendModeOnAMissingTableIs404() {
    Set<String> before = stagedFiles();
    Response r = postCsv(bytes("id\n1\n"), Map.of("table", "not_there", "mode", "append"));
    assertProblem(r, 404, "public.not_there", "does not exist");
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public.not_there"));
  }

  @Test
  void bodyOverTheSizeLimitIs413AndLeavesNoFile() {
    byte[] big = bigCsv(5 * 1024 * 1024);
    Set<String> before = stagedFiles();

    // With Content-Length: refused before the body is read.
    Response declared = postCsv(big, Map.of("table", "too_big"));
    assertProblem(declared, 413, "larger than the limit", String.valueOf(4 * 1024 * 1024));
    assertNoNewStagedFile(before);

    // Chunked, no length: refused once the stream passes the limit; the partial file goes.
    Response streamed =
        given()
            .contentType("text/csv")
            .queryParam("table", "too_big")
            .body(new ByteArrayInputStream(big))
            .post("/imports");
    assertProblem(streamed, 413, "larger than the limit");
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public.too_big"));
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name = 'too_big'"));

    assertServiceStillImports("after_too_big");
  }

  @Test
  void moreColumnsThanTheLimitIs400() {
    Set<String> before = stagedFiles();
    Response r = postCsv(wide(51), Map.of("table", "too_wide"));
    assertProblem(r, 400, "header", "line 1", "more than 50 fields");
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public.too_wide"));

    // The limit itself is allowed.
    String id = Api.startImport("just_wide_enough", CsvFiles.write("wide-50.csv", wide(50)));
    assertEquals("COMPLETED", Api.awaitState(id, "COMPLETED", "FAILED").getString("state"));
    assertEquals(50, Db.columns("public.just_wide_enough").size());
  }

  @Test
  void unknownTaskIdIs404() {
    String id = UUID.randomUUID().toString();
    assertProblem(given().get("/tasks/" + id), 404, "no task", id);
    for (String command : List.of("pause", "resume", "terminate")) {
      assertProblem(Api.command(id, command), 404, "no task", id);
    }
    assertProblem(given().get("/tasks/" + id + "/rejects"), 404, "no task", id);
  }

  @Test
  void malformedTaskIdIs400() {
    for (String id : List.of("42", "not-a-uuid", "0b6f2c9e3f0a4a579d1e2f7c5f1f9a10xxxx")) {
      assertProblem(given().get("/tasks/" + id), 400, "not a task id", id);
      for (String command : List.of("pause", "resume", "terminate")) {
        assertProblem(Api.command(id, command), 400, "not a task id");
      }
      assertProblem(given().get("/tasks/" + id + "/rejects"), 400, "not a task id");
    }
  }

  static Stream<Arguments> badOptions() {
    return Stream.of(
        Arguments.of("mode", "bogus", List.of("mode", "create or append", "bogus")),
        Arguments.of("delimiter", "ab", List.of("delimiter", "one ASCII character", "ab")),
        Arguments.of("delimiter", "\"", List.of("delimiter", "quote")),
        Arguments.of("delimiter", "é", List.of("delimiter", "ASCII")),
        Arguments.of("maxErrors", "-1", List.of("maxErrors", "0 or more", "-1")),
        Arguments.of("maxErrors", "many", List.of("maxErrors", "whole number", "many")),
        Arguments.of("onError", "ignore", List.of("onError", "fail or skip", "ignore")),
        Arguments.of("header", "maybe", List.of("header", "true or false", "maybe")));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("badOptions")
  void badOptionValueIs400(String option, String value, List<String> words) {
    Set<String> before = stagedFiles();
    String table = "bad_option";
    Response r = postCsv(bytes("id\n1\n"), Map.of("table", table, option, value));
    assertProblem(r, 400, words.toArray(String[]::new));
    assertNoNewStagedFile(before);
    assertFalse(Db.tableExists("public." + table));
  }

  @Test
  void maxErrorsWithoutSkipIs400() {
    Response r = postCsv(bytes("id\n1\n"), Map.of("table", "max_errors_fail", "maxErrors", "3"));
    assertProblem(r, 400, "maxErrors", "onError=skip");
    assertFalse(Db.tableExists("public.max_errors_fail"));
  }

  @Test
  void secondCreateOfTheSameTableIs409WhileTheFirstIsUnfinished() {
    String first = Api.startImport("created_twice", CsvFiles.mixed("twice.csv", 20_000, 3));
    Api.command(first, "pause").then().statusCode(202);
    Response second = postCsv(bytes("id\n1\n"), Map.of("table", "created_twice"));
    assertProblem(second, 409, "already creating", "created_twice", first);
    Api.command(first, "terminate").then().statusCode(202);
    Api.awaitState(first, "TERMINATED");
    String again = Api.startImport("created_twice", writeTemp("twice-small.csv", "id\n1\n2\n"));
    Api.awaitState(again, "COMPLETED");
    assertEquals(2, Db.count("SELECT count(*) FROM public.created_twice"));
  }

  @Test
  void endOfDataMarkerLineIsABadRowNotTheEndOfTheFile() {
    String csv = "name\na\n\\.\nb\nc\n";
    String id =
        Api.startImport("end_marker", writeTemp("end-marker.csv", csv), Map.of("onError", "skip"));
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(3, done.getLong("rowsDone"));
    assertEquals(1, done.getLong("rowsSkipped"));
    assertEquals(
        List.of("a", "b", "c"),
        Db.rows("SELECT name FROM public.end_marker ORDER BY name").stream()
            .map(r -> r.get(0))
            .toList());
    List<List<String>> rejects = rejects(id);
    assertEquals(1, rejects.size(), rejects.toString());
    assertEquals("3", rejects.get(0).get(0), rejects.toString());
    assertMentions(rejects.get(0).get(1), List.of("end PostgreSQL's COPY data"));
  }

  private static Path writeTemp(String name, String content) {
    return CsvFiles.write(name, content);
  }

  // ---- Found mid-file, after committed batches ----------------------------------------------

  /** Bad content, each with what the reason must say. */
  enum Bad {
    RAGGED("expected 3 fields, found 2"),
    UNCLOSED_QUOTE("quoted field", "never closed"),
    INVALID_UTF8("invalid UTF-8"),
    NUL_BYTE("NUL byte"),
    BIG_FIELD("field 3", "70000 bytes", "over the limit of " + MAX_FIELD),
    WRONG_TYPE("column n", "integer", "abc");

    final List<String> words;

    Bad(String... words) {
      this.words = List.of(words);
    }

    byte[] record(int row) {
      String start = row + "," + row * 7 + ",";
      return switch (this) {
        case RAGGED -> bytes(row + "," + row * 7 + "\n");
        // At the end of the file: the quote swallows everything after it.
        case UNCLOSED_QUOTE -> bytes(start + "\"never closed\n");
        case INVALID_UTF8 ->
            concat(bytes(start + "bad "), new byte[] {(byte) 0xC3, 0x28}, bytes(" utf8\n"));
        case NUL_BYTE -> concat(bytes(start + "nul"), new byte[] {0}, bytes("here\n"));
        case BIG_FIELD -> bytes(start + "x".repeat(70_000) + "\n");
        // Column n is integer in the 1000 sampled rows.
        case WRONG_TYPE -> bytes(row + ",abc,name " + row + "\n");
      };
    }

    /** Where the bad rows go: one, or two for the maxErrors case. */
    Map<Integer, Bad> layout(int count) {
      Map<Integer, Bad> bad = new LinkedHashMap<>();
      if (this == UNCLOSED_QUOTE) {
        // Only one unclosed quote fits a file: at its end. A ragged row comes first when two.
        if (count == 2) {
          bad.put(FIRST_BAD, RAGGED);
        }
        bad.put(ROWS, this);
      } else {
        bad.put(FIRST_BAD, this);
        if (count == 2) {
          bad.put(SECOND_BAD, this);
        }
      }
      return bad;
    }

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * A 3000-row file ({@code id integer, n integer, name text}, some names quoted over two lines, so
   * line numbers and row numbers differ) with bad records at the given rows, and the same file
   * without them.
   */
  record BadFile(Path path, Path clean, Map<Integer, Long> lineOfRow, Map<Integer, Bad> bad) {
    long line(int row) {
      return lineOfRow.get(row);
    }

    List<Integer> badRows() {
      return new ArrayList<>(bad.keySet());
    }

    static BadFile write(String name, Map<Integer, Bad> bad) {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      ByteArrayOutputStream clean = new ByteArrayOutputStream();
      byte[] header = bytes("id,n,name\n");
      all.writeBytes(header);
      clean.writeBytes(header);
      Map<Integer, Long> lines = new LinkedHashMap<>();
      long line = 2;
      for (int row = 1; row <= ROWS; row++) {
        lines.put(row, line);
        byte[] record;
        if (bad.containsKey(row)) {
          record = bad.get(row).record(row);
          all.writeBytes(record);
        } else {
          record = good(row);
          all.writeBytes(record);
          clean.writeBytes(record);
        }
        for (byte b : record) {
          if (b == '\n') {
            line++;
          }
        }
      }
      return new BadFile(
          CsvFiles.write(name + ".csv", all.toByteArray()),
          CsvFiles.write(name + "-clean.csv", clean.toByteArray()),
          lines,
          bad);
    }

    private static byte[] good(int row) {
      String name =
          switch (row % 100) {
            case 50 -> "\"two\nlines " + row + "\"";
            case 77 -> "\"quoted, with \"\"comma\"\"\"";
            case 99 -> "";
            default -> "name " + row;
          };
      return bytes(row + "," + row * 7 + "," + name + "\n");
    }
  }

  @ParameterizedTest
  @EnumSource(Bad.class)
  void failPolicyFailsAtTheBadLineAndKeepsCommittedBatches(Bad kind) {
    BadFile file = BadFile.write("mid-fail-" + kind.tag(), kind.layout(1));
    int badRow = file.badRows().get(0);
    String table = "mid_fail_" + kind.tag();
    String id = Api.startImport(table, file.path());

    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"), failed.prettify());
    String error = failed.getString("error");
    assertNotNull(error);
    assertTrue(error.contains("line " + file.line(badRow) + ":"), "line named: " + error);
    assertMentions(error, kind.words);

    // The batches before the bad one are committed, the bad one is not.
    long done = failed.getLong("rowsDone");
    assertEquals((badRow - 1) / BATCH_ROWS * BATCH_ROWS, done, "rows of the committed batches");
    assertTrue(done >= 3 * BATCH_ROWS, "several batches committed before the bad row: " + done);
    assertEquals(0, failed.getLong("rowsSkipped"));
    assertStagingHoldsCommittedRows(id, done, file.badRows());
    assertFalse(Db.tableExists("public." + table), "no target table for a failed import");
    // The row that failed the task is in its rejects, with its line and reason.
    List<List<String>> rejects = rejects(id);
    assertEquals(1, rejects.size(), "the failing row only: " + rejects);
    assertEquals(String.valueOf(file.line(badRow)), rejects.get(0).get(0));
    assertMentions(rejects.get(0).get(1), kind.words);
    assertTrue(rejects.get(0).get(2).startsWith(badRow + ","), rejects.get(0).get(2));

    assertServiceStillImports("after_fail_" + kind.tag());
  }

  @Test
  void aFailedImportResumedWithSkipSetsTheBadRowAsideAndCompletes() {
    BadFile file = BadFile.write("mid-retry", Bad.RAGGED.layout(1));
    String id = Api.startImport("mid_retry", file.path());
    assertEquals("FAILED", Api.awaitState(id, "FAILED", "COMPLETED").getString("state"));

    // a policy that is no policy, and an export, are refused
    assertProblem(given().post("/tasks/" + id + "/resume?onError=maybe"), 400, "onError", "maybe");
    Response resumed = given().post("/tasks/" + id + "/resume?onError=skip");
    assertEquals(202, resumed.statusCode(), resumed.asString());
    assertEquals("skip", resumed.jsonPath().getString("options.onError"));

    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(1, done.getLong("rowsSkipped"));
    assertEquals(ROWS - 1, done.getLong("rowsDone"));
    assertEquals(1, rejects(id).size(), "the failing row, set aside once: " + rejects(id));
    Db.copyReference("ref_mid_retry", "public.mid_retry", file.clean(), ", HEADER true");
    Db.assertSameRows("ref_mid_retry", "public.mid_retry");

    String export =
        given()
            .contentType("application/json")
            .body("{\"table\":\"public.mid_retry\"}")
            .post("/exports")
            .jsonPath()
            .getString("id");
    Api.awaitState(export, "COMPLETED");
    assertProblem(
        given().post("/tasks/" + export + "/resume?onError=skip"), 400, "export", "import");
  }

  @ParameterizedTest
  @EnumSource(Bad.class)
  void skipPolicyImportsTheGoodRowsAndListsTheBadOnes(Bad kind) {
    BadFile file = BadFile.write("mid-skip-" + kind.tag(), kind.layout(2));
    String table = "mid_skip_" + kind.tag();
    String id = Api.startImport(table, file.path(), Map.of("onError", "skip"));

    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    int bad = file.badRows().size();
    assertEquals(bad, done.getLong("rowsSkipped"));
    assertEquals(ROWS - bad, done.getLong("rowsDone"));

    List<List<String>> rejects = rejects(id);
    assertEquals(bad, rejects.size(), "one reject per bad row: " + rejects);
    for (int i = 0; i < bad; i++) {
      int row = file.badRows().get(i);
      List<String> reject = rejects.get(i);
      assertEquals(String.valueOf(file.line(row)), reject.get(0), "line of " + reject);
      assertMentions(reject.get(1), file.bad().get(row).words);
      assertTrue(reject.get(2).startsWith(row + ","), "record as sent: " + reject.get(2));
    }

    String reference = "ref_mid_skip_" + kind.tag();
    Db.copyReference(reference, "public." + table, file.clean(), ", HEADER true");
    Db.assertSameRows(reference, "public." + table);
    assertFalse(Db.tableExists("tsm." + stagingTable(id)), "staging table published");
  }

  @ParameterizedTest
  @EnumSource(Bad.class)
  void skipPolicyFailsPastMaxErrors(Bad kind) {
    BadFile file = BadFile.write("mid-max-" + kind.tag(), kind.layout(2));
    int first = file.badRows().get(0);
    int second = file.badRows().get(1);
    String table = "mid_max_" + kind.tag();
    String id = Api.startImport(table, file.path(), Map.of("onError", "skip", "maxErrors", "1"));

    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"), failed.prettify());
    String error = failed.getString("error");
    assertMentions(error, List.of("more than 1 bad row", "maxErrors"));
    assertTrue(error.contains("line " + file.line(second) + ":"), "second bad line: " + error);
    assertMentions(error, file.bad().get(second).words);

    // The first bad row was set aside in a committed batch; nothing committed is lost.
    assertEquals(1, failed.getLong("rowsSkipped"));
    long done = failed.getLong("rowsDone");
    assertTrue(done >= first, "batches past the first bad row committed: " + done);
    assertStagingHoldsCommittedRows(id, done, file.badRows());
    // the row set aside, then the one over the limit that failed the task
    List<List<String>> rejects = rejects(id);
    assertEquals(2, rejects.size(), rejects.toString());
    assertEquals(String.valueOf(file.line(first)), rejects.get(0).get(0));
    assertEquals(String.valueOf(file.line(second)), rejects.get(1).get(0));
    assertFalse(Db.tableExists("public." + table));
  }

  @Test
  void maxErrorsIsAnInclusiveLimit() {
    BadFile file = BadFile.write("mid-max-exact", Bad.RAGGED.layout(2));
    String id =
        Api.startImport("mid_max_exact", file.path(), Map.of("onError", "skip", "maxErrors", "2"));
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(2, done.getLong("rowsSkipped"));
    Db.copyReference("ref_mid_max_exact", "public.mid_max_exact", file.clean(), ", HEADER true");
    Db.assertSameRows("ref_mid_max_exact", "public.mid_max_exact");
  }

  @Test
  void failedImportThenTerminateLeavesNothing() throws IOException {
    BadFile file = BadFile.write("mid-fail-terminate", Bad.WRONG_TYPE.layout(1));
    String id = Api.startImport("mid_fail_terminate", file.path());
    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"));
    String staging = stagingTable(id);
    assertTrue(Db.tableExists("tsm." + staging), "a failed import keeps its staging table");
    assertFalse(stagedFilesOf(id).isEmpty(), "a failed import keeps its file (for resume)");

    Response terminate = Api.command(id, "terminate");
    assertEquals(202, terminate.statusCode(), terminate.asString());
    Api.awaitState(id, "TERMINATED");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table");
    assertFalse(Db.tableExists("public.mid_fail_terminate"), "no target table");
    assertTrue(stagedFilesOf(id).isEmpty(), "no staged file: " + stagedFilesOf(id));
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task_reject WHERE task_id = '" + id + "'"));
    Response again = Api.command(id, "resume");
    assertProblem(again, 409, "TERMINATED");
  }

  // ---- Helpers ---------------------------------------------------------------------------------

  private static Response postCsv(byte[] body, Map<String, ?> params) {
    return given().contentType("text/csv").queryParams(params).body(body).post("/imports");
  }

  /** The staging table holds exactly the committed rows: the first good rows of the file. */
  private static void assertStagingHoldsCommittedRows(String id, long done, List<Integer> bad) {
    String staging = "tsm." + stagingTable(id);
    assertTrue(Db.tableExists(staging), "a failed import keeps its staging table");
    List<String> stats =
        Db.rows("SELECT count(*), count(DISTINCT id), coalesce(max(id), 0) FROM " + staging).get(0);
    assertEquals(done, Long.parseLong(stats.get(0)), "staging rows = rowsDone");
    assertEquals(done, Long.parseLong(stats.get(1)), "no row twice");
    long max = Long.parseLong(stats.get(2));
    long badBelow = bad.stream().filter(row -> row <= max).count();
    assertEquals(done, max - badBelow, "every good row up to the last committed one");
    for (int row : bad) {
      assertEquals(0, Db.count("SELECT count(*) FROM " + staging + " WHERE id = " + row));
    }
  }

  private static String stagingTable(String id) {
    return Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
  }

  private static void assertServiceStillImports(String table) {
    Path file = CsvFiles.write(table + ".csv", "id,name\n1,a\n2,b\n3,c\n");
    String id = Api.startImport(table, file);
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(3, Db.count("SELECT count(*) FROM public." + table));
  }

  /** GET /tasks/{id}/rejects without its header: line, reason, record. */
  private static List<List<String>> rejects(String id) {
    Response r = given().get("/tasks/" + id + "/rejects");
    assertEquals(200, r.statusCode(), r.asString());
    assertTrue(r.contentType().startsWith("text/csv"), r.contentType());
    List<List<String>> rows = parseCsv(r.asString());
    assertEquals(List.of("line", "reason", "record"), rows.get(0));
    return rows.subList(1, rows.size());
  }

  private static List<List<String>> parseCsv(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean inQuote = false;
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (inQuote) {
        if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (ch == '"') {
          inQuote = false;
        } else {
          field.append(ch);
        }
      } else if (ch == '"') {
        inQuote = true;
      } else if (ch == ',') {
        row.add(field.toString());
        field.setLength(0);
      } else if (ch == '\n') {
        row.add(field.toString());
        field.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
      } else if (ch != '\r') {
        field.append(ch);
      }
    }
    if (field.length() > 0 || !row.isEmpty()) {
      row.add(field.toString());
      rows.add(row);
    }
    return rows;
  }

  private static Set<String> stagedFiles() {
    if (!Files.isDirectory(IMPORTS)) {
      return Set.of();
    }
    try (Stream<Path> files = Files.list(IMPORTS)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Set<String> stagedFilesOf(String id) {
    return stagedFiles().stream().filter(f -> f.startsWith(id)).collect(Collectors.toSet());
  }

  private static void assertNoNewStagedFile(Set<String> before) {
    Set<String> added = new HashSet<>(stagedFiles());
    added.removeAll(before);
    assertTrue(added.isEmpty(), "files left in " + IMPORTS + ": " + added);
  }

  private static byte[] wide(int columns) {
    StringBuilder csv = new StringBuilder();
    for (int i = 1; i <= columns; i++) {
      csv.append(i == 1 ? "" : ",").append("c").append(i);
    }
    csv.append('\n');
    for (int i = 1; i <= columns; i++) {
      csv.append(i == 1 ? "" : ",").append(i);
    }
    return bytes(csv.append('\n').toString());
  }

  private static byte[] bigCsv(int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(size + 64);
    out.writeBytes(bytes("id,name\n"));
    for (int i = 1; out.size() < size; i++) {
      out.writeBytes(bytes(i + ",some text to fill the body " + i + "\n"));
    }
    return out.toByteArray();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
