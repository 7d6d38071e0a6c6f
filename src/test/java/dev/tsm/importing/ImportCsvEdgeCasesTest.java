package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Files with the hard parts of CSV (quoting, escaped quotes, newlines inside quotes, CRLF, a BOM,
 * multi-byte UTF-8, NULL against the empty string, other delimiters, no header, append, multipart),
 * each imported with a pause mid-way and compared with the uninterrupted reference: {@code psql
 * \copy} of the same file into a table of the same column types. Bad rows among them are set aside
 * at their physical line.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportCsvEdgeCasesTest {
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  /** Every tricky row of a CSV file at once; {i} is the row's id. 8 columns. */
  private static final String TRICKY_HEADER = "id,code,name,note,amount,day,at,flag";

  private static final List<String> TRICKY =
      List.of(
          "{i},01001,\"Smith, Jr.\",\"a,b,c\",12.50,2024-01-31,2024-03-01 10:15:00,true",
          "{i},00042,\"say \"\"hi\"\"\",\"\"\"quoted\"\" at both ends\"\"\",-3,2024-02-29,"
              + "2024-03-01T23:59:59.5,false",
          "{i},12345,\"two\nlines\",\"line1\nline2\n\nline4, after a blank\",0.001,,"
              + "2024-03-01 00:00,TRUE",
          "{i},99999,Zoë,東京 😀 👩\u200D👩\u200D👧 🇫🇷,1e3,2000-01-01,,False",
          "{i},,,\"\",,,,",
          "{i},\"\",\"\", ,7,1999-12-31,2024-12-31 23:59:59.999999,",
          "{i},\"0,1\",a\"\"b,\"x\"\",\"\"y\",42,2024-06-15,2024-06-15T12:00,true",
          "{i},7,\"CRLF\r\ninside\",\"tab\there, \"\"q\"\" and \\backslash \\N\",1.5,2024-01-01,"
              + "2024-01-01 00:00:00,false",
          "{i}, 00 , spaced ,\"  \",-0.5,2024-02-28,2024-02-28 01:02:03,TRUE",
          "{i},\"A\"\"\",\"\"\"\",\",\",0,2024-12-31,2024-12-31 23:59,false");

  private static final List<List<String>> TRICKY_COLUMNS =
      List.of(
          List.of("id", "integer"),
          List.of("code", "text"),
          List.of("name", "text"),
          List.of("note", "text"),
          List.of("amount", "numeric"),
          List.of("day", "date"),
          List.of("at", "timestamp without time zone"),
          List.of("flag", "boolean"));

  /** 20 batches of the test profile's 500 rows: room to pause mid-way. */
  private static final int REPEAT = 1000;

  private static final int TRICKY_ROWS = TRICKY.size() * REPEAT;

  /** A line of GET /tasks/{id}/rejects: line,"reason","record". */
  private static final Pattern REJECT = Pattern.compile("^(\\d+),\"((?:[^\"]|\"\")*)\",\"(.*)\"$");

  // ---- files -----------------------------------------------------------------------------------

  /** A header (or none), then the templates over and over, {i} numbered from {@code firstId}. */
  private static Path csv(
      String name,
      boolean bom,
      String header,
      List<String> templates,
      int repeat,
      int firstId,
      String lineEnd) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (bom) {
      out.writeBytes(BOM);
    }
    StringBuilder text = new StringBuilder();
    if (header != null) {
      text.append(header).append(lineEnd);
    }
    int id = firstId;
    for (int r = 0; r < repeat; r++) {
      for (String t : templates) {
        text.append(t.replace("{i}", Integer.toString(id++))).append(lineEnd);
      }
    }
    out.writeBytes(text.toString().getBytes(StandardCharsets.UTF_8));
    return CsvFiles.write(name, out.toByteArray());
  }

  private static Path csv(String name, String header, List<String> templates, int repeat) {
    return csv(name, false, header, templates, repeat, 1, "\n");
  }

  private static Path withoutBom(Path file) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      byte[] rest = Arrays.copyOfRange(bytes, BOM.length, bytes.length);
      return CsvFiles.write("nobom-" + file.getFileName(), rest);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- the interrupted run ---------------------------------------------------------------------

  /**
   * Runs a started import to completion with a pause once its first batch is in: the paused task
   * holds exactly its checkpoint's rows and has not touched the target yet.
   *
   * <p>The pause is asked for at once: a RUNNING task stops at its next batch boundary, so after at
   * least one batch and, the runner being throttled, long before its last. A task still PENDING
   * pauses before its first row; it is then resumed, and paused again once a runner has it.
   */
  private static JsonPath pauseMidWayThenComplete(
      String id, Path file, long rows, Runnable whilePaused) {
    return pauseMidWayThenComplete(id, file, rows, 0, whilePaused);
  }

  private static JsonPath pauseMidWayThenComplete(
      String id, Path file, long rows, long skipped, Runnable whilePaused) {
    JsonPath paused = pause(id);
    for (int attempt = 0; paused.getLong("rowsDone") == 0 && attempt < 10; attempt++) {
      Api.command(id, "resume").then().statusCode(202);
      Api.awaitState(id, Duration.ofSeconds(60), "RUNNING", "COMPLETED", "FAILED");
      paused = pause(id);
    }
    long done = paused.getLong("rowsDone");
    assertTrue(done > 0 && done < rows, "paused at row " + done + " of " + rows);
    assertTrue(paused.getDouble("percent") > 0 && paused.getDouble("percent") < 100);
    long bytesDone = paused.getLong("bytesDone");
    assertTrue(bytesDone > 0 && bytesDone < size(file), "paused at byte " + bytesDone);
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertEquals(done, Db.count("SELECT count(*) FROM tsm." + staging), "staged rows = rowsDone");
    whilePaused.run();

    Api.command(id, "resume").then().statusCode(202);
    JsonPath completed = Api.awaitState(id, Duration.ofSeconds(60), "COMPLETED", "FAILED");
    assertEquals(
        "COMPLETED", completed.getString("state"), "error: " + completed.getString("error"));
    assertEquals(rows, completed.getLong("rowsDone"));
    assertEquals(skipped, completed.getLong("rowsSkipped"));
    assertEquals(size(file), completed.getLong("bytesTotal"));
    assertEquals(size(file), completed.getLong("bytesDone"), "the whole file was read");
    assertNull(completed.getString("error"));
    assertFalse(Db.tableExists("tsm." + staging), "the staging table is gone");
    return completed;
  }

  private static JsonPath pause(String id) {
    Response pause = Api.command(id, "pause");
    assertEquals(202, pause.statusCode(), pause.asString());
    JsonPath paused = Api.awaitState(id, Duration.ofSeconds(60), "PAUSED", "COMPLETED", "FAILED");
    assertEquals("PAUSED", paused.getString("state"), "paused mid-way: " + paused.prettify());
    return paused;
  }

  private static JsonPath importPausedMidWay(
      String table, Path file, Map<String, ?> params, long rows) {
    String id = Api.startImport(table, file, params);
    return pauseMidWayThenComplete(
        id,
        file,
        rows,
        () -> assertFalse(Db.tableExists("public." + table), "the target appears at completion"));
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void assertCount(long expected, String table, String where) {
    assertEquals(
        expected,
        Db.count("SELECT count(*) FROM " + table + " WHERE " + where),
        table + " WHERE " + where);
  }

  /** What PostgreSQL made of each tricky row: the import and psql must both give exactly this. */
  private static void assertTrickyValues(String table) {
    assertCount(REPEAT, table, "code = '01001'");
    assertCount(REPEAT, table, "code = '00042'");
    assertCount(REPEAT, table, "code = ' 00 '");
    assertCount(REPEAT, table, "code = '0,1'");
    assertCount(REPEAT, table, "code = 'A\"'");
    assertCount(REPEAT, table, "code IS NULL");
    assertCount(REPEAT, table, "code = ''");
    assertCount(REPEAT, table, "name = 'Smith, Jr.'");
    assertCount(REPEAT, table, "name = 'say \"hi\"'");
    assertCount(REPEAT, table, "name = E'two\\nlines'");
    assertCount(REPEAT, table, "name = E'CRLF\\r\\ninside'");
    assertCount(REPEAT, table, "name = 'Zoë'");
    assertCount(REPEAT, table, "name = 'ab'");
    assertCount(REPEAT, table, "name = ' spaced '");
    assertCount(REPEAT, table, "name = '\"'");
    assertCount(REPEAT, table, "name IS NULL");
    assertCount(REPEAT, table, "name = ''");
    assertCount(REPEAT, table, "note = '\"quoted\" at both ends\"'");
    assertCount(REPEAT, table, "note = E'line1\\nline2\\n\\nline4, after a blank'");
    assertCount(REPEAT, table, "note = '東京 😀 👩\u200D👩\u200D👧 🇫🇷'");
    assertCount(REPEAT, table, "note = E'tab\\there, \"q\" and \\\\backslash \\\\N'");
    assertCount(REPEAT, table, "note = 'x\",\"y'");
    assertCount(REPEAT, table, "note = ','");
    assertCount(REPEAT, table, "note = ''");
    assertCount(REPEAT, table, "note = ' '");
    assertCount(REPEAT, table, "note = '  '");
    assertCount(REPEAT, table, "amount = 1000");
    assertCount(REPEAT, table, "at = '2024-12-31 23:59:59.999999'");
    assertCount(2 * REPEAT, table, "flag IS NULL");
    assertCount(4 * REPEAT, table, "flag");
  }

  private static void assertColumns(String table, List<List<String>> expected) {
    assertEquals(expected, Db.columns(table), "columns of " + table);
  }

  // ---- tests -----------------------------------------------------------------------------------

  /**
   * The first requests of a run pay for class loading and connections on both sides; they are paid
   * here, before an import runs, so that a pause reaches the first import in time too.
   */
  @BeforeEach
  void warmUp() {
    String none = UUID.randomUUID().toString();
    for (int i = 0; i < 3; i++) {
      given().get("/tasks/" + none).then().statusCode(404);
      given().post("/tasks/" + none + "/pause").then().statusCode(404);
      given().post("/tasks/" + none + "/resume").then().statusCode(404);
      given().get("/tasks?limit=5").then().statusCode(200).extract().jsonPath().getList("id");
    }
  }

  @Test
  void quotingEscapesAndNewlinesInsideQuotesPausedMidWay() {
    Path file = csv("edge-tricky.csv", TRICKY_HEADER, TRICKY, REPEAT);
    importPausedMidWay("edge_tricky", file, Map.of(), TRICKY_ROWS);

    assertColumns("public.edge_tricky", TRICKY_COLUMNS);
    Db.copyReference("ref_edge_tricky", "public.edge_tricky", file, ", HEADER true");
    Db.assertSameRows("ref_edge_tricky", "public.edge_tricky");
    assertTrickyValues("public.edge_tricky");
    assertEquals(
        List.of(List.of("1", "01001", "Smith, Jr.", "a,b,c", "12.50")),
        Db.rows("SELECT id, code, name, note, amount FROM public.edge_tricky WHERE id = 1"));
    assertEquals(
        TRICKY_ROWS,
        Db.count("SELECT count(DISTINCT id) FROM public.edge_tricky"),
        "every row once");
  }

  @Test
  void crlfLineEndsPausedMidWay() {
    Path file = csv("edge-crlf.csv", false, TRICKY_HEADER, TRICKY, REPEAT, 1, "\r\n");
    importPausedMidWay("edge_crlf", file, Map.of(), TRICKY_ROWS);

    // A CR left on the last field would have made flag text.
    assertColumns("public.edge_crlf", TRICKY_COLUMNS);
    Db.copyReference("ref_edge_crlf", "public.edge_crlf", file, ", HEADER true");
    Db.assertSameRows("ref_edge_crlf", "public.edge_crlf");
    assertTrickyValues("public.edge_crlf");
    assertCount(0, "public.edge_crlf", "note LIKE E'%\\r' OR code LIKE E'%\\r'");
  }

  @Test
  void utf8ByteOrderMarkIsSkippedPausedMidWay() {
    Path file = csv("edge-bom.csv", true, TRICKY_HEADER, TRICKY, REPEAT, 1, "\n");
    importPausedMidWay("edge_bom", file, Map.of(), TRICKY_ROWS);

    // The first column is "id", not "\uFEFFid".
    assertColumns("public.edge_bom", TRICKY_COLUMNS);
    // psql reads the BOM as part of the header line, which HEADER true skips.
    Db.copyReference("ref_edge_bom", "public.edge_bom", file, ", HEADER true");
    Db.assertSameRows("ref_edge_bom", "public.edge_bom");
    assertTrickyValues("public.edge_bom");
  }

  @Test
  void multiByteUtf8InNamesAndValuesPausedMidWay() {
    List<String> rows =
        List.of(
            "{i},Zoë,東京,😀,\"Łódź, Kraków\"",
            "{i},\"José \"\"Pepe\"\"\",München,👩\u200D👩\u200D👧,\"e\u0301 vs é\"",
            "{i},Ærøskøbing,\"São Paulo\n(two lines)\",🇫🇷🇯🇵,𝄞 music",
            "{i},\"東京,大阪\",ירושלים,\"\"\"😀\"\"\",مرحبا",
            "{i},Ω≈ç√,\"\",🙂,",
            "{i},\"x\u00a0y\",Chișinău,🏳\uFE0F\u200D🌈,край 😀😀😀😀😀😀😀😀");
    int repeat = 1667;
    Path file = csv("edge-utf8.csv", "id,名前,città,emoji,\"note 📝\"", rows, repeat);
    importPausedMidWay("edge_utf8", file, Map.of(), rows.size() * repeat);

    assertColumns(
        "public.edge_utf8",
        List.of(
            List.of("id", "integer"),
            List.of("名前", "text"),
            List.of("città", "text"),
            List.of("emoji", "text"),
            List.of("note 📝", "text")));
    Db.copyReference("ref_edge_utf8", "public.edge_utf8", file, ", HEADER true");
    Db.assertSameRows("ref_edge_utf8", "public.edge_utf8");
    String t = "public.edge_utf8";
    assertCount(repeat, t, "\"名前\" = 'Zoë'");
    assertCount(repeat, t, "\"名前\" = '東京,大阪'");
    assertCount(repeat, t, "\"名前\" = 'José \"Pepe\"'");
    assertCount(repeat, t, "città = E'São Paulo\\n(two lines)'");
    assertCount(repeat, t, "città = 'ירושלים'");
    assertCount(repeat, t, "città = ''");
    assertCount(repeat, t, "emoji = '\"😀\"'");
    assertCount(repeat, t, "emoji = '👩\u200D👩\u200D👧' AND length(emoji) = 5");
    assertCount(repeat, t, "\"note 📝\" = 'Łódź, Kraków'");
    assertCount(repeat, t, "\"note 📝\" = 'e\u0301 vs é' AND length(\"note 📝\") = 7");
    assertCount(repeat, t, "\"note 📝\" = '𝄞 music' AND length(\"note 📝\") = 7");
    assertCount(repeat, t, "\"note 📝\" IS NULL");
  }

  @Test
  void emptyFieldsAreNullQuotedEmptyFieldsAreEmptyStringsPausedMidWay() {
    List<String> rows =
        List.of(
            "{i},,,,,",
            "{i},1,\"\",,2024-01-01,true",
            "{i},2,5,\"\",,false",
            "{i},,\"\",\"\"\"\"\"\",,",
            "{i},3,7,NULL,2024-01-02,",
            "{i},4,,\\N,,TRUE",
            "{i},5,\"\",\"  \",2024-01-03,",
            "{i},6,8,\",\",,false");
    int repeat = 1250;
    Path file = csv("edge-nulls.csv", "id,n,s,t,d,b", rows, repeat);
    importPausedMidWay("edge_nulls", file, Map.of(), rows.size() * repeat);

    // Empty fields do not weigh on a type; a quoted empty string is text.
    assertColumns(
        "public.edge_nulls",
        List.of(
            List.of("id", "integer"),
            List.of("n", "integer"),
            List.of("s", "text"),
            List.of("t", "text"),
            List.of("d", "date"),
            List.of("b", "boolean")));
    Db.copyReference("ref_edge_nulls", "public.edge_nulls", file, ", HEADER true");
    Db.assertSameRows("ref_edge_nulls", "public.edge_nulls");
    String t = "public.edge_nulls";
    assertCount(2 * repeat, t, "n IS NULL");
    assertCount(2 * repeat, t, "s IS NULL");
    assertCount(3 * repeat, t, "s = ''");
    assertCount(2 * repeat, t, "t IS NULL");
    assertCount(repeat, t, "t = ''");
    assertCount(repeat, t, "t = '\"\"'");
    assertCount(repeat, t, "t = 'NULL'");
    assertCount(repeat, t, "t = '\\N'");
    assertCount(repeat, t, "t = '  '");
    assertCount(5 * repeat, t, "d IS NULL");
    assertCount(4 * repeat, t, "b IS NULL");
    assertCount(repeat, t, "n IS NULL AND s IS NULL AND t IS NULL AND d IS NULL AND b IS NULL");
  }

  @Test
  void semicolonDelimiterPausedMidWay() {
    List<String> rows =
        List.of(
            "{i};12.5;1,5;\"a;b\"",
            "{i};-3;\"2,75\";\"say \"\"hi\"\"; bye\"",
            "{i};;0,5;\"multi\nline; text\"",
            "{i};1e2;\"\";Zoë, 東京",
            "{i};0;,;\"\"");
    int repeat = 2000;
    Path file = csv("edge-semicolon.csv", "id;amount;price;label", rows, repeat);
    importPausedMidWay("edge_semicolon", file, Map.of("delimiter", ";"), rows.size() * repeat);

    assertColumns(
        "public.edge_semicolon",
        List.of(
            List.of("id", "integer"),
            List.of("amount", "numeric"),
            List.of("price", "text"),
            List.of("label", "text")));
    Db.copyReference(
        "ref_edge_semicolon", "public.edge_semicolon", file, ", HEADER true, DELIMITER ';'");
    Db.assertSameRows("ref_edge_semicolon", "public.edge_semicolon");
    String t = "public.edge_semicolon";
    assertCount(repeat, t, "price = '1,5'");
    assertCount(repeat, t, "price = ','");
    assertCount(repeat, t, "label = 'a;b'");
    assertCount(repeat, t, "label = 'say \"hi\"; bye'");
    assertCount(repeat, t, "label = E'multi\\nline; text'");
    assertCount(repeat, t, "label = 'Zoë, 東京'");
    assertCount(repeat, t, "label = ''");
  }

  @Test
  void tabDelimiterPausedMidWay() {
    List<String> rows =
        List.of(
            "{i}\tplain\t\"has\ttab\"\t2024-01-01",
            "{i}\t\"a,b\"\ta,b unquoted\t",
            "{i}\t\"two\nlines\"\t\"\"\t2024-02-29",
            "{i}\tZoë 😀\t\"say \"\"hi\"\"\"\t",
            "{i}\t\t \t2024-12-31");
    int repeat = 2000;
    Path file = csv("edge-tab.csv", "id\tname\tnote\tday", rows, repeat);
    importPausedMidWay("edge_tab", file, Map.of("delimiter", "\\t"), rows.size() * repeat);

    assertColumns(
        "public.edge_tab",
        List.of(
            List.of("id", "integer"),
            List.of("name", "text"),
            List.of("note", "text"),
            List.of("day", "date")));
    Db.copyReference("ref_edge_tab", "public.edge_tab", file, ", HEADER true, DELIMITER E'\\t'");
    Db.assertSameRows("ref_edge_tab", "public.edge_tab");
    String t = "public.edge_tab";
    assertCount(repeat, t, "note = E'has\\ttab'");
    assertCount(repeat, t, "note = 'a,b unquoted'");
    assertCount(repeat, t, "name = 'a,b'");
    assertCount(repeat, t, "name IS NULL");
    assertCount(repeat, t, "note = ' '");
    assertCount(repeat, t, "note = ''");
    assertCount(2 * repeat, t, "day IS NULL");
  }

  @Test
  void noHeaderNumbersTheColumnsPausedMidWay() {
    Path file = csv("edge-noheader.csv", null, TRICKY, REPEAT);
    importPausedMidWay("edge_noheader", file, Map.of("header", "false"), TRICKY_ROWS);

    List<List<String>> numbered = new ArrayList<>();
    for (int i = 0; i < TRICKY_COLUMNS.size(); i++) {
      numbered.add(List.of("column_" + (i + 1), TRICKY_COLUMNS.get(i).get(1)));
    }
    assertColumns("public.edge_noheader", numbered);
    Db.copyReference("ref_edge_noheader", "public.edge_noheader", file, "");
    Db.assertSameRows("ref_edge_noheader", "public.edge_noheader");
    assertEquals(
        List.of(List.of("1", "01001", "Smith, Jr.")),
        Db.rows(
            "SELECT column_1, column_2, column_3 FROM public.edge_noheader WHERE column_1 = 1"));
  }

  @Test
  void noHeaderWithByteOrderMarkSkipsItPausedMidWay() {
    Path file = csv("edge-noheader-bom.csv", true, null, TRICKY, REPEAT, 1, "\r\n");
    importPausedMidWay("edge_noheader_bom", file, Map.of("header", "false"), TRICKY_ROWS);

    List<List<String>> numbered = new ArrayList<>();
    for (int i = 0; i < TRICKY_COLUMNS.size(); i++) {
      numbered.add(List.of("column_" + (i + 1), TRICKY_COLUMNS.get(i).get(1)));
    }
    // A BOM kept in front of the first value would have made column_1 text, and row 1 bad.
    assertColumns("public.edge_noheader_bom", numbered);
    // psql would read the BOM into the first value: its reference is the file without it.
    Db.copyReference("ref_edge_noheader_bom", "public.edge_noheader_bom", withoutBom(file), "");
    Db.assertSameRows("ref_edge_noheader_bom", "public.edge_noheader_bom");
    assertCount(1, "public.edge_noheader_bom", "column_1 = 1 AND column_2 = '01001'");
  }

  @Test
  void appendWithHeaderInAnotherOrderPausedMidWay() {
    String table = "public.edge_append";
    String columns =
        "(id integer PRIMARY KEY, name text NOT NULL, amount numeric(12,2), day date,"
            + " note varchar(100), origin text DEFAULT 'csv')";
    String seed =
        " (id, name, amount, day, note, origin) VALUES (1, 'before', 1.00, '2020-01-01', NULL,"
            + " 'seed'), (2, 'Zoë', NULL, NULL, '', 'seed')";
    Db.execute("CREATE TABLE " + table + " " + columns);
    Db.execute("INSERT INTO " + table + seed);
    List<List<String>> shape = Db.columns(table);

    // Header names in another order than the table's, one in another case; origin not in it.
    List<String> rows =
        List.of(
            "\"multi\nline, note\",2024-01-31,12.5,\"Smith, Jr.\",{i}",
            "\"\",,-3,\"say \"\"hi\"\"\",{i}",
            ",2024-02-29,,東京 😀,{i}",
            "\"\"\"q\"\"\",2024-12-31,0.125,Zoë,{i}",
            "plain,,1e3,\"a,b\",{i}");
    int repeat = 2000;
    int total = rows.size() * repeat;
    Path file = csv("edge-append.csv", false, "note,DAY,amount,name,id", rows, repeat, 1001, "\n");
    String id = Api.startImport("edge_append", file, Map.of("mode", "append"));
    pauseMidWayThenComplete(
        id,
        file,
        total,
        () ->
            assertEquals(
                2, Db.count("SELECT count(*) FROM " + table), "appended only at completion"));

    assertEquals(shape, Db.columns(table), "the table keeps its columns and types");
    Db.execute("CREATE TABLE ref_edge_append (LIKE " + table + " INCLUDING DEFAULTS)");
    Db.execute("INSERT INTO ref_edge_append" + seed);
    Db.psql(
        "\\copy ref_edge_append (note, day, amount, name, id) FROM '"
            + file.toAbsolutePath()
            + "' WITH (FORMAT csv, HEADER true)");
    Db.assertSameRows("ref_edge_append", table);
    assertEquals(total + 2, Db.count("SELECT count(*) FROM " + table));
    assertCount(total, table, "origin = 'csv'");
    assertCount(repeat, table, "name = 'Smith, Jr.' AND note = E'multi\\nline, note'");
    assertCount(repeat, table, "note = '' AND amount = -3");
    assertCount(repeat, table, "note IS NULL AND id > 1000");
    assertCount(repeat, table, "amount = 0.13");
  }

  @Test
  void multipartUploadPausedMidWay() {
    Path file = csv("edge-multipart.csv", true, TRICKY_HEADER, TRICKY, REPEAT, 1, "\r\n");
    Response r =
        given()
            .multiPart("file", file.toFile(), "text/csv")
            .queryParam("table", "edge_multipart")
            .post("/imports");
    assertEquals(202, r.statusCode(), r.asString());
    String id = r.jsonPath().getString("id");
    assertTrue(r.header("Location").endsWith("/tasks/" + id), r.header("Location"));
    assertEquals(size(file), r.jsonPath().getLong("bytesTotal"));
    pauseMidWayThenComplete(
        id,
        file,
        TRICKY_ROWS,
        () -> assertFalse(Db.tableExists("public.edge_multipart"), "no target while paused"));

    assertColumns("public.edge_multipart", TRICKY_COLUMNS);
    Db.copyReference("ref_edge_multipart", "public.edge_multipart", file, ", HEADER true");
    Db.assertSameRows("ref_edge_multipart", "public.edge_multipart");
    assertTrickyValues("public.edge_multipart");
  }

  @Test
  void badRowsAmongMultiLineRecordsAreSetAsideAtTheirPhysicalLines() {
    // The tricky rows (with quoted newlines) and, past the type sample, a bad row now and then:
    // a missing field, a value the inferred type refuses, invalid UTF-8.
    ByteArrayOutputStream full = new ByteArrayOutputStream();
    ByteArrayOutputStream good = new ByteArrayOutputStream();
    List<String> expected = new ArrayList<>();
    byte[] header = (TRICKY_HEADER + "\n").getBytes(StandardCharsets.UTF_8);
    full.writeBytes(header);
    good.writeBytes(header);
    long line = 2;
    int id = 1;
    int bad = 0;
    for (int r = 0; r < REPEAT; r++) {
      for (String t : TRICKY) {
        if (id % 1500 == 0) {
          int k = 900_000 + bad;
          byte[] row =
              switch (bad++ % 3) {
                case 0 -> (k + ",too,few,fields,here\n").getBytes(StandardCharsets.UTF_8);
                case 1 ->
                    (k + ",01001,x,y,not-a-number,2024-01-01,2024-01-01 00:00,true\n")
                        .getBytes(StandardCharsets.UTF_8);
                default -> utf8Broken(k);
              };
          full.writeBytes(row);
          String sent = new String(row, StandardCharsets.UTF_8).stripTrailing();
          expected.add(line + "|" + reasonOf(bad - 1) + "|" + sent);
          line++;
        }
        byte[] row =
            (t.replace("{i}", Integer.toString(id++)) + "\n").getBytes(StandardCharsets.UTF_8);
        full.writeBytes(row);
        good.writeBytes(row);
        for (byte b : row) {
          line += b == '\n' ? 1 : 0;
        }
      }
    }
    Path file = CsvFiles.write("edge-rejects.csv", full.toByteArray());
    Path goodFile = CsvFiles.write("edge-rejects-good.csv", good.toByteArray());

    String taskId = Api.startImport("edge_rejects", file, Map.of("onError", "skip"));
    pauseMidWayThenComplete(
        taskId,
        file,
        TRICKY_ROWS,
        bad,
        () -> assertFalse(Db.tableExists("public.edge_rejects"), "no target while paused"));

    assertColumns("public.edge_rejects", TRICKY_COLUMNS);
    Db.copyReference("ref_edge_rejects", "public.edge_rejects", goodFile, ", HEADER true");
    Db.assertSameRows("ref_edge_rejects", "public.edge_rejects");

    String csv =
        given().get("/tasks/" + taskId + "/rejects").then().statusCode(200).extract().asString();
    List<String> lines = List.of(csv.split("\n"));
    assertEquals("line,reason,record", lines.get(0));
    List<String> actual = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      Matcher m = REJECT.matcher(l);
      assertTrue(m.matches(), l);
      String reason = m.group(2);
      String kind =
          reason.startsWith("expected 8 fields, found 5")
              ? "fields"
              : reason.contains("amount") && reason.contains("numeric")
                  ? "type"
                  : reason.contains("UTF-8") ? "utf8" : reason;
      actual.add(m.group(1) + "|" + kind + "|" + m.group(3).replace("\"\"", "\""));
    }
    assertEquals(bad, expected.size());
    assertEquals(expected, actual, "rejected lines, why, and the records as sent");
  }

  private static String reasonOf(int bad) {
    return switch (bad % 3) {
      case 0 -> "fields";
      case 1 -> "type";
      default -> "utf8";
    };
  }

  private static byte[] utf8Broken(int id) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes((id + ",01001,\"bad ").getBytes(StandardCharsets.UTF_8));
    out.write(0xC3);
    out.write('(');
    out.writeBytes(
        " byte\",y,1,2024-01-01,2024-01-01 00:00,true\n".getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
