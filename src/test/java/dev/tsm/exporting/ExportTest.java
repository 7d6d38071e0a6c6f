package dev.tsm.exporting;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Exports;
import dev.tsm.support.MixedTable;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.InputStream;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Exports, interrupted (paused at random points, cut off mid-page, terminated) or not, each file
 * compared byte for byte with the uninterrupted reference: {@code psql \copy (SELECT columns FROM
 * table ORDER BY key) TO file WITH (FORMAT csv, ...)}. Pages are 500 rows in the test profile.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ExportTest {
  @TestHTTPResource("/")
  URL base;

  private static final String PROBLEM = "application/problem+json";
  private static final int PAGE = 500;
  private static final int ROWS = MixedTable.ROWS;

  private static final String ALL = MixedTable.SELECT;
  private static final String MIXED_VALUES = MixedTable.VALUES;

  /** A fingerprint of a table's content, to show an export left it as it was. */
  private static String fingerprint(String table, String orderBy) {
    return Db.single(
        "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY "
            + orderBy
            + ")), '') FROM "
            + table
            + " t");
  }

  // ---- pause and resume ------------------------------------------------------------------------

  @Test
  void pausedAndResumedAtRandomPointsEqualsPsqlCopy() {
    MixedTable.create();
    byte[] expected = Exports.reference("all", ALL, ", HEADER");
    String id = Exports.start(Map.of("table", "exp_all"));
    JsonPath started = Api.task(id);
    assertEquals(ROWS, started.getLong("rowsTotal"), "rowsTotal is the count at the start");
    assertEquals("public.exp_all", started.getString("table"));

    long seed = System.nanoTime();
    Random random = new Random(seed);
    long[] points =
        LongStream.generate(() -> 1 + random.nextInt(ROWS - 2 * PAGE)).limit(4).sorted().toArray();
    int pauses = 0;
    for (long point : points) {
      JsonPath paused = Api.pauseAt(id, point);
      if (paused == null) {
        break;
      }
      if (paused.getLong("rowsDone") == ROWS) {
        // The pause took effect with the last page: nothing is left to resume mid-way.
        Api.command(id, "resume").then().statusCode(202);
        break;
      }
      assertTrue(
          paused.getLong("rowsDone") >= point,
          "paused at "
              + paused.getLong("rowsDone")
              + " after point "
              + point
              + " (seed "
              + seed
              + ")");
      assertPausedExportIsConsistent(id, paused, ALL, ", HEADER", ROWS);
      assertEquals(0, paused.getLong("rowsDone") % PAGE, "a paused export ends at a page boundary");
      pauses++;
      Response again = Api.command(id, "pause");
      assertEquals(409, again.statusCode(), again.asString());
      assertEquals("PAUSED", again.jsonPath().getString("state"));
      Api.command(id, "resume").then().statusCode(202);
    }
    assertTrue(pauses >= 2, "paused " + pauses + " times at " + Arrays.toString(points));

    JsonPath done = assertCompleted(id, ROWS, expected);
    assertEquals(ROWS, done.getLong("rowsTotal"));
    Api.command(id, "resume").then().statusCode(409);
    Api.command(id, "pause").then().statusCode(409);
  }

  @Test
  void pagesSizedByTheTablesStatisticsPauseAndResumeToPsqlsFile() {
    // The mixed table's rows in a table of their own, analyzed: the planner's histogram of its key
    // bounds the pages instead of a scan.
    MixedTable.create();
    if (!Db.tableExists("public.exp_analyzed")) {
      Db.execute("CREATE TABLE public.exp_analyzed AS SELECT * FROM public.exp_all");
      Db.execute("ALTER TABLE public.exp_analyzed ADD PRIMARY KEY (id)");
    }
    Db.execute("ANALYZE public.exp_analyzed");
    List<String> bounds =
        Db.rows(
                "SELECT json_build_array(b::text)::text FROM pg_stats,"
                    + " unnest(histogram_bounds::text::integer[]) b(b)"
                    + " WHERE tablename = 'exp_analyzed' AND attname = 'id'")
            .stream()
            .map(row -> row.get(0).replace(" ", ""))
            .toList();
    String select = "SELECT * FROM public.exp_analyzed ORDER BY id";
    byte[] expected = Exports.reference("analyzed", select, ", HEADER");
    String id = Exports.start(Map.of("table", "exp_analyzed"));

    long seed = System.nanoTime();
    Random random = new Random(seed);
    long[] points =
        LongStream.generate(() -> 1 + random.nextInt(ROWS - 4 * PAGE)).limit(3).sorted().toArray();
    int pauses = 0;
    long resumedAt = -1; // the rows done where the run now paused was resumed (-1: the first run)
    for (long point : points) {
      JsonPath paused = Api.pauseAt(id, point);
      if (paused == null) {
        break;
      }
      long rows = paused.getLong("rowsDone");
      if (rows == ROWS) {
        // The pause took effect with the last page: nothing is left to resume mid-way.
        Api.command(id, "resume").then().statusCode(202);
        break;
      }
      assertPausedExportIsConsistent(id, paused, select, ", HEADER", ROWS);
      String lastKey = Db.single("SELECT last_key FROM tsm.task WHERE id = '" + id + "'");
      // A resumed run's first page is found by a scan, to its exact size; the others by the
      // statistics.
      boolean scanned = resumedAt >= 0 && (rows == resumedAt || rows == resumedAt + PAGE);
      assertTrue(
          scanned || bounds.contains(lastKey.replace(" ", "")),
          "paused after a page that ends at a histogram bound, not at "
              + lastKey
              + " ("
              + rows
              + " rows, resumed at "
              + resumedAt
              + ", seed "
              + seed
              + ")");
      pauses++;
      resumedAt = rows;
      Api.command(id, "resume").then().statusCode(202);
    }
    assertTrue(pauses >= 2, "paused " + pauses + " times at " + Arrays.toString(points));
    assertCompleted(id, ROWS, expected);
  }

  @Test
  void pausesWhilePagesWriteStraightIntoTheFileLeaveEveryConnectionUsable() throws Exception {
    // Pages of 500 rows of about 6 KB: 3 MB each, more than a page's write buffer, so the page at
    // the head writes into the export's file while its COPY still runs, and a pause stops it there.
    // A connection whose COPY was stopped by an exception out of the file's stream came back to
    // the pool out of step with its server, and a later run on it failed.
    if (!Db.tableExists("public.exp_wide_pages")) {
      Db.execute(
          "CREATE TABLE public.exp_wide_pages AS SELECT g AS id,"
              + " repeat(md5(g::text), 190) || ',\"' || chr(10) || g AS body"
              + " FROM generate_series(1, 12000) g");
      Db.execute("ALTER TABLE public.exp_wide_pages ADD PRIMARY KEY (id)");
    }
    String select = "SELECT * FROM public.exp_wide_pages ORDER BY id";
    byte[] expected = Exports.reference("wide-pages", select, ", HEADER");
    // Once uninterrupted first: the client's first answers of each kind are slow to check against
    // the contract, long enough for a whole export to end before the first pause.
    assertCompleted(Exports.start(Map.of("table", "exp_wide_pages")), 12000, expected);
    Api.command(java.util.UUID.randomUUID().toString(), "pause").then().statusCode(404);
    String id = Exports.start(Map.of("table", "exp_wide_pages"));
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int pauses = 0;
    for (int cycle = 0; cycle < 20; cycle++) {
      // A page of 3 MB takes some milliseconds: a pause soon after the run starts cuts into one.
      Thread.sleep(random.nextInt(40));
      Response pause = Api.command(id, "pause");
      JsonPath now = Api.awaitState(id, "PAUSED", "COMPLETED", "FAILED");
      assertNull(now.getString("error"), "cycle " + cycle + " (seed " + seed + ")");
      if (!"PAUSED".equals(now.getString("state"))) {
        break;
      }
      assertEquals(202, pause.statusCode(), pause.asString());
      assertEquals(now.getLong("bytesDone"), Exports.size(Exports.part(id)), ".part = bytesDone");
      pauses++;
      Api.command(id, "resume").then().statusCode(202);
    }
    assertTrue(pauses >= 3, "paused " + pauses + " times (seed " + seed + ")");
    if ("PAUSED".equals(Api.state(id))) {
      Api.command(id, "resume").then().statusCode(202);
    }
    assertCompleted(id, 12000, expected);
    // Every pooled connection still answers its own statements: a whole export more.
    String again = Exports.start(Map.of("table", "exp_wide_pages"));
    assertCompleted(again, 12000, expected);
  }

  /**
   * While paused: the .part file is exactly the checkpoint's bytes and they are the first rowsDone
   * rows of the reference; no .csv yet; no owner; nothing moves.
   */
  private static void assertPausedExportIsConsistent(
      String id, JsonPath paused, String select, String options, long total) {
    long rows = paused.getLong("rowsDone");
    long bytes = paused.getLong("bytesDone");
    assertTrue(rows > 0 && rows < total, "paused at row " + rows + " of " + total);
    double percent = paused.getDouble("percent");
    assertEquals(Math.floor(rows * 1000.0 / total) / 10.0, percent, 0.0001, "percent");
    assertNull(Db.single("SELECT owner FROM tsm.task WHERE id = '" + id + "'"), "no owner");
    Path part = Exports.part(id);
    assertTrue(Files.exists(part), "the .part file is kept while paused");
    assertFalse(Files.exists(Exports.file(id)), "no .csv before completion");
    assertEquals(bytes, Exports.size(part), ".part length = bytesDone");
    byte[] prefix = Exports.reference("prefix-" + id, select + " LIMIT " + rows, options);
    Exports.assertSameBytes(prefix, Exports.read(part), "the .part file after " + rows + " rows");

    Api.assertStaysPaused(
        id,
        rows,
        Duration.ofMillis(300),
        later -> {
          assertEquals(bytes, later.getLong("bytesDone"), "a paused export does not move");
          assertEquals(bytes, Exports.size(part), "a paused export does not write");
        });
    Response file = given().get("/tasks/" + id + "/file");
    assertEquals(409, file.statusCode(), file.asString());
    assertEquals("PAUSED", file.jsonPath().getString("state"));
  }

  /** Pauses after the first page of rows, checks the paused state, resumes. */
  private static void pauseOnceAndResume(String id, String select, String options, long total) {
    JsonPath reached = Api.awaitRows(id, 1);
    assertEquals("RUNNING", reached.getString("state"), reached.prettify());
    Response pause = Api.command(id, "pause");
    assertEquals(202, pause.statusCode(), pause.asString());
    JsonPath paused = Api.awaitState(id, "PAUSED", "COMPLETED", "FAILED");
    assertEquals("PAUSED", paused.getString("state"), "paused mid-way: " + paused.prettify());
    assertPausedExportIsConsistent(id, paused, select, options, total);
    Api.command(id, "resume").then().statusCode(202);
  }

  /** Waits for COMPLETED; checks the counters, the files on disk and the download. */
  private static JsonPath assertCompleted(String id, long rows, byte[] expected) {
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED", "TERMINATED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    assertEquals(rows, done.getLong("rowsDone"));
    assertEquals(100.0, done.getDouble("percent"));
    assertEquals(expected.length, done.getLong("bytesDone"), "bytesDone = file size");
    assertNull(done.getString("error"));
    assertNotNull(done.getString("finishedAt"));
    assertFalse(Files.exists(Exports.part(id)), "no .part left");
    Exports.assertSameBytes(expected, Exports.read(Exports.file(id)), "file on disk of " + id);
    Exports.assertSameBytes(expected, Exports.download(id), "download of " + id);
    return done;
  }

  // ---- cut off ---------------------------------------------------------------------------------

  @Test
  void cutOffMidPageFailsThenResumesToTheSameFile() throws Exception {
    // Rows of ~3 KB, all quoted: a page (1.5 MB) outgrows the 1 MiB write buffer, so the cut page
    // leaves bytes behind in the .part file, which the resume must cut back.
    int rows = 8000;
    Db.execute("CREATE TABLE public.exp_wide (id bigint PRIMARY KEY, n numeric, payload text)");
    Db.execute(
        "INSERT INTO public.exp_wide SELECT g, g / 7.0, repeat(md5(g::text) || ',\"', 90)"
            + " FROM generate_series(1, "
            + rows
            + ") g");
    String select = "SELECT * FROM public.exp_wide ORDER BY id";
    byte[] expected = Exports.reference("wide", select, ", HEADER");

    String id = null;
    boolean cut = false;
    for (int attempt = 0; attempt < 5 && !cut; attempt++) {
      id = Exports.start(Map.of("table", "exp_wide"));
      Api.awaitRows(id, 2 * PAGE);
      cut = killCopyInFlight(id);
      if (!cut) {
        Api.command(id, "terminate");
      }
    }
    assertTrue(cut, "caught a COPY in flight");
    JsonPath failed = Api.awaitState(id, "FAILED", "COMPLETED");
    assertEquals("FAILED", failed.getString("state"), failed.prettify());
    assertTrue(failed.getString("error").contains("connection"), failed.getString("error"));
    long done = failed.getLong("rowsDone");
    assertTrue(done >= 2 * PAGE && done < rows, "failed at row " + done);
    assertTrue(
        Exports.size(Exports.part(id)) >= failed.getLong("bytesDone"),
        "the .part file holds at least the checkpoint");
    assertFalse(Files.exists(Exports.file(id)));
    Response file = given().get("/tasks/" + id + "/file");
    assertEquals(409, file.statusCode(), file.asString());
    assertEquals("FAILED", file.jsonPath().getString("state"));

    Api.command(id, "resume").then().statusCode(202);
    assertCompleted(id, rows, expected);
  }

  // ---- downloads that follow a running export -----------------------------------------------

  @Test
  void downloadFollowsTheRunningExportThroughAPauseToTheFinishedFile() throws Exception {
    int rows = 30000;
    Db.execute("CREATE TABLE public.exp_follow (id bigint PRIMARY KEY, label text, n numeric)");
    Db.execute(
        "INSERT INTO public.exp_follow SELECT g, 'row ' || g || ', \"q\"', g / 3.0"
            + " FROM generate_series(1, "
            + rows
            + ") g");
    byte[] expected =
        Exports.reference("follow", "SELECT * FROM public.exp_follow ORDER BY id", ", HEADER");
    String id = Exports.start(Map.of("table", "exp_follow"));
    HttpResponse<InputStream> followed = Exports.follow(base, id);
    assertEquals(200, followed.statusCode());
    assertTrue(followed.headers().firstValue("ETag").isEmpty(), "no ETag before the end");
    CompletableFuture<byte[]> body = Exports.readAll(followed);

    Api.awaitRows(id, 4 * PAGE);
    Api.command(id, "pause").then().statusCode(202);
    JsonPath paused = Api.awaitState(id, "PAUSED");
    Thread.sleep(300); // the download waits while the export is paused
    assertFalse(body.isDone(), "the download is still open while the export is paused");
    assertTrue(paused.getLong("rowsDone") < rows, "paused before the end");
    Api.command(id, "resume").then().statusCode(202);

    byte[] received = body.get(60, TimeUnit.SECONDS);
    assertCompleted(id, rows, expected);
    Exports.assertSameBytes(expected, received, "download that followed " + id);
    // Once complete, follow answers as without it: the whole file, with its ETag.
    Response after = given().get("/tasks/" + id + "/file?follow=true");
    assertEquals(200, after.statusCode());
    assertNotNull(after.header("ETag"));
    Exports.assertSameBytes(expected, after.asByteArray(), "download after completion");
  }

  @Test
  void aFollowedDownloadIsCutShortWhenTheExportIsTerminated() throws Exception {
    Db.execute("CREATE TABLE public.exp_follow_cut (id bigint PRIMARY KEY, label text)");
    Db.execute(
        "INSERT INTO public.exp_follow_cut SELECT g, repeat('x', 200) FROM generate_series(1,"
            + " 40000) g");
    String id = Exports.start(Map.of("table", "exp_follow_cut"));
    CompletableFuture<byte[]> body = Exports.readAll(Exports.follow(base, id));
    Api.awaitRows(id, 2 * PAGE);
    Api.command(id, "terminate").then().statusCode(202);
    Api.awaitState(id, "TERMINATED");
    ExecutionException cut =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> body.get(30, TimeUnit.SECONDS));
    assertTrue(cut.getCause() instanceof java.io.IOException, String.valueOf(cut.getCause()));
    // Without follow, a running or ended export still has no file to give.
    Response file = given().get("/tasks/" + id + "/file?follow=true");
    assertEquals(409, file.statusCode(), file.asString());
  }

  /** Kills the export's connection while its COPY runs; false if the export ended first. */
  private static boolean killCopyInFlight(String id) throws Exception {
    try (Connection c = TestDatabase.pg().connect();
        Statement s = c.createStatement()) {
      for (int i = 0; ; i++) {
        try (ResultSet rs =
            s.executeQuery(
                "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND state = 'active'"
                    + " AND query LIKE 'COPY (SELECT%'")) {
          if (rs.next() && rs.getBoolean(1)) {
            return true;
          }
        }
        if (i % 50 == 0) {
          try (ResultSet rs =
              s.executeQuery("SELECT state FROM tsm.task WHERE id = '" + id + "'")) {
            rs.next();
            String state = rs.getString(1);
            if (!"RUNNING".equals(state) && !"PENDING".equals(state)) {
              return false;
            }
          }
        }
      }
    }
  }

  // ---- shapes of tables and options ------------------------------------------------------------

  @Test
  void tableWithoutPrimaryKeyIsInPhysicalOrder() {
    Db.execute("CREATE TABLE public.exp_nopk (n integer, label text, at timestamp)");
    Db.execute(
        "INSERT INTO public.exp_nopk SELECT g, 'row ' || g || CASE WHEN g % 9 = 0 THEN ', \"x\"'"
            + " ELSE '' END, timestamp '2024-01-01' + g * interval '1 hour'"
            + " FROM generate_series(1, 24000) g ORDER BY md5(g::text)");
    // Holes and rows moved to later blocks, and duplicates (no key keeps them apart).
    Db.execute("UPDATE public.exp_nopk SET label = label || ' (moved)' WHERE n % 10 = 0");
    Db.execute("DELETE FROM public.exp_nopk WHERE n % 7 = 0");
    Db.execute("INSERT INTO public.exp_nopk SELECT * FROM public.exp_nopk WHERE n % 100 = 1");
    long rows = Db.count("SELECT count(*) FROM public.exp_nopk");
    String select = "SELECT * FROM public.exp_nopk ORDER BY ctid";
    byte[] expected = Exports.reference("nopk", select, ", HEADER");
    String before = fingerprint("public.exp_nopk", "t::text");

    String id = Exports.start(Map.of("table", "exp_nopk"));
    assertEquals(List.of("ctid"), Api.task(id).getList("options.orderBy"));
    pauseOnceAndResume(id, select, ", HEADER", rows);
    assertCompleted(id, rows, expected);
    assertEquals(before, fingerprint("public.exp_nopk", "t::text"), "the table is unchanged");
  }

  @Test
  void emptyTablesGiveTheHeaderOnly() {
    Db.execute("CREATE TABLE public.exp_empty (id integer PRIMARY KEY, \"Name\" text)");
    Db.execute("CREATE TABLE public.exp_empty_nopk (a text, b date)");

    String id = Exports.start(Map.of("table", "exp_empty"));
    byte[] expected =
        Exports.reference("empty", "SELECT * FROM public.exp_empty ORDER BY id", ", HEADER");
    assertEquals("id,Name\n", new String(expected, StandardCharsets.UTF_8));
    JsonPath done = assertCompleted(id, 0, expected);
    assertEquals(0, done.getLong("rowsTotal"));

    String nopk = Exports.start(Map.of("table", "exp_empty_nopk"));
    assertCompleted(
        nopk,
        0,
        Exports.reference(
            "empty-nopk", "SELECT * FROM public.exp_empty_nopk ORDER BY ctid", ", HEADER"));

    // Without a header, an empty table is an empty file.
    String bare = Exports.start(Map.of("table", "exp_empty", "header", false));
    assertCompleted(bare, 0, new byte[0]);
    Response range = given().header("Range", "bytes=0-0").get("/tasks/" + bare + "/file");
    assertEquals(416, range.statusCode(), range.asString());
    assertEquals("bytes */0", range.header("Content-Range"));
  }

  @Test
  void compositePrimaryKeyIsInKeyOrder() {
    // The key (region text, n integer): collation order for the text, number order (with
    // negatives) for the integer, key values that need quoting in SQL and in JSON.
    Db.execute(
        "CREATE TABLE public.exp_composite (region text, n integer, amount numeric,"
            + " \"we\"\"ird, Name\" text, PRIMARY KEY (region, n))");
    Db.execute(
        "INSERT INTO public.exp_composite SELECT"
            + " (ARRAY['north', 'North', 'Zürich', '東京', 'O''Brien', 'a,b', '\"q\"', '',"
            + "   ' lead', E'back\\\\slash'])[1 + g % 10],"
            + " g / 10 - 600, g * 1.5, CASE WHEN g % 4 = 0 THEN NULL ELSE 'n' || g END"
            + " FROM generate_series(0, 11999) g ORDER BY md5(g::text)");
    String select = "SELECT * FROM public.exp_composite ORDER BY region, n";
    byte[] expected = Exports.reference("composite", select, ", HEADER");

    String id = Exports.start(Map.of("table", "exp_composite"));
    assertEquals(List.of("region", "n"), Api.task(id).getList("options.orderBy"));
    pauseOnceAndResume(id, select, ", HEADER", 12_000);
    assertCompleted(id, 12_000, expected);

    // A column whose name needs quoting, picked by name.
    String picked =
        Exports.start(Map.of("table", "exp_composite", "columns", List.of("we\"ird, Name", "n")));
    assertCompleted(
        picked,
        12_000,
        Exports.reference(
            "composite-picked",
            "SELECT \"we\"\"ird, Name\", n FROM public.exp_composite ORDER BY region, n",
            ", HEADER"));
  }

  @Test
  void keyColumnNamedLikeAnOutputColumnIsStillOrderedByValue() {
    // The pager selects each key as text; a key column named like a text alias must still be
    // ordered and paged by its integer value.
    Db.execute("CREATE TABLE public.exp_key0 (key_0 integer PRIMARY KEY, v text)");
    Db.execute(
        "INSERT INTO public.exp_key0 SELECT g, 'v' || g FROM generate_series(1, 1600) g"
            + " ORDER BY md5(g::text)");
    String id = Exports.start(Map.of("table", "exp_key0"));
    assertCompleted(
        id,
        1600,
        Exports.reference("key0", "SELECT * FROM public.exp_key0 ORDER BY key_0", ", HEADER"));
  }

  @Test
  void aTableWithoutStatisticsIsNotCountedWholeWhenTheExportIsAsked() {
    // Never analyzed (as right after a bulk load): no estimate in pg_class. Counting it would read
    // the whole table while the request waits; the count stops past the limit (100,000 rows) and
    // the task starts with the planner's estimate, exact once completed.
    int rows = 150_000;
    Db.execute(
        "CREATE TABLE public.exp_unanalyzed (id integer PRIMARY KEY, v text)"
            + " WITH (autovacuum_enabled = false)");
    Db.execute(
        "INSERT INTO public.exp_unanalyzed SELECT g, 'v' || g FROM generate_series(1, "
            + rows
            + ") g");
    assertEquals(
        "-1",
        Db.single(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'public.exp_unanalyzed'::regclass"));
    String id = Exports.start(Map.of("table", "exp_unanalyzed"));
    long total = Api.task(id).getLong("rowsTotal");
    assertTrue(total > 100_000, "past the limit, the count says so: " + total);
    assertTrue(total != rows, "an estimate, not a count of the whole table: " + total);
    Api.command(id, "terminate").then().statusCode(202);
    Api.awaitState(id, "TERMINATED");

    // Under the limit, still counted exactly without statistics.
    Db.execute("DELETE FROM public.exp_unanalyzed WHERE id > 1000");
    assertCountedAndExported(
        "exp_unanalyzed", 1000, "SELECT * FROM public.exp_unanalyzed ORDER BY id");
  }

  /** An export of {@code table}, counted exactly when asked for, completed to psql's file. */
  private static void assertCountedAndExported(String table, long rows, String select) {
    String id = Exports.start(Map.of("table", table));
    assertEquals(rows, Api.task(id).getLong("rowsTotal"));
    assertCompleted(id, rows, Exports.reference(table, select, ", HEADER"));
  }

  @Test
  void partitionedTables() {
    // With a primary key, a partitioned table pages by key like any other.
    Db.execute(
        "CREATE TABLE public.exp_parted (id integer, day date, v text, PRIMARY KEY (id, day))"
            + " PARTITION BY RANGE (day)");
    Db.execute(
        "CREATE TABLE public.exp_parted_h1 PARTITION OF public.exp_parted"
            + " FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')");
    Db.execute(
        "CREATE TABLE public.exp_parted_h2 PARTITION OF public.exp_parted"
            + " FOR VALUES FROM ('2024-07-01') TO ('2025-01-01')");
    Db.execute(
        "INSERT INTO public.exp_parted SELECT g, date '2024-01-01' + g % 366, 'v' || g"
            + " FROM generate_series(1, 2000) g");
    assertCountedAndExported(
        "exp_parted", 2000, "SELECT * FROM public.exp_parted ORDER BY id, day");

    // Without one there is no order to page by (ctid repeats across partitions, and the parent
    // has no blocks of its own): refused, rather than a file without the rows.
    Db.execute("CREATE TABLE public.exp_parted_nopk (id integer, v text) PARTITION BY LIST (id)");
    Db.execute(
        "CREATE TABLE public.exp_parted_nopk_1 PARTITION OF public.exp_parted_nopk"
            + " FOR VALUES IN (1, 2, 3)");
    Db.execute("INSERT INTO public.exp_parted_nopk VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    Response r =
        given()
            .contentType("application/json")
            .body(Map.of("table", "exp_parted_nopk"))
            .post("/exports");
    assertEquals(400, r.statusCode(), r.asString());
    assertTrue(r.contentType().startsWith(PROBLEM), r.contentType());
    assertTrue(r.jsonPath().getString("detail").contains("primary key"), r.asString());
    Db.execute("CREATE TABLE public.exp_parent (id integer, v text)");
    Db.execute("CREATE TABLE public.exp_child (extra text) INHERITS (public.exp_parent)");
    Db.execute("INSERT INTO public.exp_child VALUES (1, 'a', 'x')");
    Response inherited =
        given()
            .contentType("application/json")
            .body(Map.of("table", "exp_parent"))
            .post("/exports");
    assertEquals(400, inherited.statusCode(), inherited.asString());
    // Its partitions are plain tables, exported in physical order.
    String partition = Exports.start(Map.of("table", "exp_parted_nopk_1"));
    assertCompleted(
        partition,
        3,
        Exports.reference(
            "parted-nopk-1", "SELECT * FROM public.exp_parted_nopk_1 ORDER BY ctid", ", HEADER"));
  }

  @Test
  void columnsOptionPicksAndOrdersColumns() {
    MixedTable.create();
    List<String> columns = List.of("note", "name", "id", "amount");
    String id = Exports.start(Map.of("table", "exp_all", "columns", columns));
    assertEquals(columns, Api.task(id).getList("options.columns"));
    byte[] expected =
        Exports.reference(
            "columns", "SELECT note, name, id, amount FROM public.exp_all ORDER BY id", ", HEADER");
    assertTrue(new String(expected, StandardCharsets.UTF_8).startsWith("note,name,id,amount\n"));
    assertCompleted(id, ROWS, expected);

    // The key need not be among the columns: rows still come in key order.
    String noKey = Exports.start(Map.of("table", "exp_all", "columns", List.of("at", "name")));
    assertCompleted(
        noKey,
        ROWS,
        Exports.reference(
            "columns-nokey", "SELECT at, name FROM public.exp_all ORDER BY id", ", HEADER"));

    // An empty list (what generated clients send by default) is every column, as if left out.
    String all = Exports.start(Map.of("table", "exp_all", "columns", List.of()));
    assertCompleted(
        all,
        ROWS,
        Exports.reference("columns-all", "SELECT * FROM public.exp_all ORDER BY id", ", HEADER"));
  }

  @Test
  void delimiterAndHeaderOptions() {
    MixedTable.create();
    String semicolon = Exports.start(Map.of("table", "exp_all", "delimiter", ";", "header", false));
    assertCompleted(semicolon, ROWS, Exports.reference("semicolon", ALL, ", DELIMITER ';'"));

    String tab = Exports.start(Map.of("table", "exp_all", "delimiter", "\\t"));
    assertCompleted(tab, ROWS, Exports.reference("tab", ALL, ", DELIMITER E'\\t', HEADER"));

    String pipe =
        Exports.start(
            Map.of("table", "exp_all", "delimiter", "|", "columns", List.of("name", "id")));
    assertCompleted(
        pipe,
        ROWS,
        Exports.reference(
            "pipe", "SELECT name, id FROM public.exp_all ORDER BY id", ", DELIMITER '|', HEADER"));
  }

  // ---- round trip ------------------------------------------------------------------------------

  @Test
  void roundTripThroughImportGivesTheSameTable() {
    Db.execute(
        "CREATE TABLE public.exp_rt (id integer PRIMARY KEY, big bigint, amount numeric,"
            + " active boolean, day date, at timestamp, name text)");
    Db.execute(
        "INSERT INTO public.exp_rt SELECT g,"
            + MIXED_VALUES
            + " FROM generate_series(1, 5000) g ORDER BY md5(g::text)");
    String id = Exports.start(Map.of("table", "exp_rt"));
    byte[] expected =
        Exports.reference("rt", "SELECT * FROM public.exp_rt ORDER BY id", ", HEADER");
    assertCompleted(id, 5000, expected);
    Path file = CsvFiles.write("exp-rt-downloaded.csv", Exports.download(id));

    String imported = Api.startImport("exp_rt_copy", file);
    JsonPath done = Api.awaitState(imported, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    assertEquals(5000, done.getLong("rowsDone"));
    // Every type comes back as it was (booleans are written t/f and read back as booleans).
    assertEquals(
        List.of(
            List.of("id", "integer"),
            List.of("big", "bigint"),
            List.of("amount", "numeric"),
            List.of("active", "boolean"),
            List.of("day", "date"),
            List.of("at", "timestamp without time zone"),
            List.of("name", "text")),
        Db.columns("public.exp_rt_copy"));
    Db.assertSameRows("public.exp_rt", "public.exp_rt_copy");
    // NULL and '' stay apart through the file.
    assertEquals(
        Db.count("SELECT count(*) FROM public.exp_rt WHERE name IS NULL"),
        Db.count("SELECT count(*) FROM public.exp_rt_copy WHERE name IS NULL"));
    assertEquals(
        Db.count("SELECT count(*) FROM public.exp_rt WHERE name = ''"),
        Db.count("SELECT count(*) FROM public.exp_rt_copy WHERE name = ''"));
  }

  // ---- terminate -------------------------------------------------------------------------------

  @Test
  void terminateWhileRunningLeavesNoFile() {
    MixedTable.create();
    String before = fingerprint("public.exp_all", "id");
    String id = Exports.start(Map.of("table", "exp_all"));
    JsonPath reached = Api.awaitRows(id, 2 * PAGE);
    assertEquals("RUNNING", reached.getString("state"));
    Api.command(id, "terminate").then().statusCode(202);
    Api.awaitState(id, "TERMINATED");
    assertNothingLeft(id);
    assertEquals(before, fingerprint("public.exp_all", "id"), "the table is unchanged");
    assertEquals(409, Api.command(id, "resume").statusCode());
    assertEquals(409, Api.command(id, "terminate").statusCode());
    Response file = given().get("/tasks/" + id + "/file");
    assertEquals(409, file.statusCode(), file.asString());
    assertEquals("TERMINATED", file.jsonPath().getString("state"));
  }

  @Test
  void terminateWhilePausedLeavesNoFile() {
    MixedTable.create();
    String before = fingerprint("public.exp_all", "id");
    String id = Exports.start(Map.of("table", "exp_all"));
    Api.awaitRows(id, 2 * PAGE);
    Api.command(id, "pause").then().statusCode(202);
    JsonPath paused = Api.awaitState(id, "PAUSED");
    assertEquals(paused.getLong("bytesDone"), Exports.size(Exports.part(id)));
    Response terminate = Api.command(id, "terminate");
    assertEquals(202, terminate.statusCode(), terminate.asString());
    assertEquals("TERMINATED", terminate.jsonPath().getString("state"), "at once when paused");
    assertNothingLeft(id);
    assertEquals(before, fingerprint("public.exp_all", "id"), "the table is unchanged");
  }

  private static void assertNothingLeft(String id) {
    assertFalse(Files.exists(Exports.part(id)), "no .part file");
    assertFalse(Files.exists(Exports.file(id)), "no .csv file");
    assertEquals("TERMINATED", Api.state(id));
  }

  // ---- GET /tasks/{id}/file --------------------------------------------------------------------

  @Test
  void fileDownloadWithEtagAndRanges() {
    MixedTable.create();
    String id = Exports.start(Map.of("table", "exp_all"));
    Response early = given().get("/tasks/" + id + "/file");
    assertEquals(409, early.statusCode(), early.asString());
    assertTrue(early.contentType().startsWith(PROBLEM), early.contentType());
    assertTrue(
        List.of("PENDING", "RUNNING").contains(early.jsonPath().getString("state")),
        early.asString());
    assertTrue(early.jsonPath().getString("detail").contains("COMPLETED"), early.asString());

    byte[] expected = Exports.reference("file", ALL, ", HEADER");
    assertCompleted(id, ROWS, expected);
    long size = expected.length;
    String path = "/tasks/" + id + "/file";

    Response full = given().get(path);
    assertEquals(200, full.statusCode());
    assertTrue(full.contentType().startsWith("text/csv"), full.contentType());
    assertEquals("attachment; filename=\"exp_all.csv\"", full.header("Content-Disposition"));
    assertEquals("bytes", full.header("Accept-Ranges"));
    assertEquals(Long.toString(size), full.header("Content-Length"));
    String etag = full.header("ETag");
    assertNotNull(etag);
    assertTrue(etag.startsWith("\"") && etag.endsWith("\""), "a strong, quoted ETag: " + etag);
    Exports.assertSameBytes(expected, full.asByteArray(), "full download");

    Response same = given().header("If-None-Match", etag).get(path);
    assertEquals(304, same.statusCode());
    assertEquals(0, same.asByteArray().length);
    assertEquals(etag, same.header("ETag"));
    assertEquals(200, given().header("If-None-Match", "\"other\"").get(path).statusCode());
    assertEquals(304, given().header("If-None-Match", "\"other\", " + etag).get(path).statusCode());
    assertEquals(304, given().header("If-None-Match", "W/" + etag).get(path).statusCode());
    assertEquals(304, given().header("If-None-Match", "*").get(path).statusCode());

    Response first = given().header("Range", "bytes=0-99").get(path);
    assertEquals(206, first.statusCode());
    assertEquals("bytes 0-99/" + size, first.header("Content-Range"));
    assertEquals("100", first.header("Content-Length"));
    assertArrayEquals(Arrays.copyOfRange(expected, 0, 100), first.asByteArray());
    assertEquals(etag, first.header("ETag"));

    Response last = given().header("Range", "bytes=-50").get(path);
    assertEquals(206, last.statusCode());
    assertEquals(
        "bytes " + (size - 50) + "-" + (size - 1) + "/" + size, last.header("Content-Range"));
    assertArrayEquals(
        Arrays.copyOfRange(expected, (int) size - 50, (int) size), last.asByteArray());

    Response rest = given().header("Range", "bytes=100-").get(path);
    assertEquals(206, rest.statusCode());
    assertEquals("bytes 100-" + (size - 1) + "/" + size, rest.header("Content-Range"));
    Exports.assertSameBytes(
        Arrays.copyOfRange(expected, 100, (int) size), rest.asByteArray(), "bytes=100-");

    Response past = given().header("Range", "bytes=" + (size - 10) + "-" + (size + 1000)).get(path);
    assertEquals(206, past.statusCode(), "a last byte past the end is cut to the end");
    assertEquals(
        "bytes " + (size - 10) + "-" + (size - 1) + "/" + size, past.header("Content-Range"));
    assertArrayEquals(
        Arrays.copyOfRange(expected, (int) size - 10, (int) size), past.asByteArray());

    // A range of a unit other than bytes must be ignored (RFC 9110, 14.2): the whole file.
    Response items = given().header("Range", "items=0-5").get(path);
    assertEquals(200, items.statusCode(), items.asString());
    Exports.assertSameBytes(expected, items.asByteArray(), "Range: items=0-5");

    Response beyond = given().header("Range", "bytes=" + size + "-").get(path);
    assertEquals(416, beyond.statusCode(), beyond.asString());
    assertEquals("bytes */" + size, beyond.header("Content-Range"));
    assertTrue(beyond.contentType().startsWith(PROBLEM), beyond.contentType());

    // An import has no file; nor has a task that does not exist.
    Path csv = CsvFiles.mixed("exp-import.csv", 20, 3);
    String imported = Api.startImport("exp_some_import", csv);
    Response importFile = given().get("/tasks/" + imported + "/file");
    assertEquals(404, importFile.statusCode(), importFile.asString());
    assertTrue(importFile.contentType().startsWith(PROBLEM));
    assertTrue(importFile.jsonPath().getString("detail").contains("import"), importFile.asString());
    Response unknown = given().get("/tasks/" + java.util.UUID.randomUUID() + "/file");
    assertEquals(404, unknown.statusCode(), unknown.asString());
    Response malformed = given().get("/tasks/42/file");
    assertEquals(400, malformed.statusCode(), malformed.asString());
    Api.awaitState(imported, "COMPLETED", "FAILED");
  }

  // ---- bad input -------------------------------------------------------------------------------

  @Test
  void badRequestsAreProblems() {
    MixedTable.create();
    Db.execute("CREATE VIEW public.exp_view AS SELECT id FROM public.exp_all");
    long tasks = Db.count("SELECT count(*) FROM tsm.task");

    assertProblem(Map.of("table", "pg_catalog.pg_authid"), 400, "schema 'pg_catalog'");
    assertProblem(Map.of("table", "information_schema.tables"), 400, "schema 'information_schema'");
    assertProblem(Map.of("table", "tsm.task"), 400, "schema 'tsm'");
    assertProblem(Map.of("table", "x; drop table y"), 400, "not a valid table name");
    assertProblem(Map.of("table", "exp_all\"; --"), 400, "not a valid table name");
    assertProblem(Map.of("table", "a.b.c"), 400, "not a valid table name");
    assertProblem(Map.of("table", "no_such_table"), 404, "there is no table public.no_such_table");
    assertProblem(Map.of("table", "exp_view"), 404, "there is no table public.exp_view");
    assertProblem(
        Map.of("table", "exp_all", "columns", List.of("id", "nope")), 400, "has no column [nope]");
    assertProblem(Map.of("table", "exp_all", "columns", List.of("id", "id")), 400, "twice");
    assertProblem(Map.of("table", "exp_all", "delimiter", ";;"), 400, "delimiter");
    assertProblem(Map.of("table", "exp_all", "delimiter", "\""), 400, "delimiter");
    assertProblem(Map.of("columns", List.of("id")), 400, "'table'");
    assertProblem(Map.of("table", ""), 400, "'table'");

    assertProblemBody("not json at all", "not valid JSON (line 1, column ");
    assertProblemBody("{\"table\": ", "not valid JSON");
    assertProblemBody("", "the body must be JSON");
    assertProblemBody("[\"exp_all\"]", "must be a JSON object");
    assertProblemBody("{\"table\": \"exp_all\", \"header\": \"maybe\"}", "'header'");
    assertProblemBody("{\"table\": \"exp_all\", \"columns\": \"id\"}", "'columns'");

    Response wrongType = given().contentType("text/plain").body("exp_all").post("/exports");
    assertEquals(415, wrongType.statusCode(), wrongType.asString());
    assertTrue(wrongType.contentType().startsWith(PROBLEM), wrongType.contentType());

    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no task was created");
  }

  private static void assertProblem(Map<String, ?> body, int status, String detail) {
    Response r = given().contentType("application/json").body(body).post("/exports");
    assertEquals(status, r.statusCode(), body + ": " + r.asString());
    assertTrue(r.contentType().startsWith(PROBLEM), body + ": " + r.contentType());
    assertEquals(status, r.jsonPath().getInt("status"));
    String actual = r.jsonPath().getString("detail");
    assertTrue(actual != null && actual.contains(detail), body + ": " + actual);
  }

  /** A body that is not JSON, or not of the request's shape: 400 that says so, no class names. */
  private static void assertProblemBody(String body, String detail) {
    Response r = given().contentType("application/json").body(body).post("/exports");
    assertEquals(400, r.statusCode(), "'" + body + "': " + r.asString());
    assertTrue(r.contentType().startsWith(PROBLEM), "'" + body + "': " + r.contentType());
    String actual = r.jsonPath().getString("detail");
    assertTrue(actual != null && actual.contains(detail), "'" + body + "': " + r.asString());
    assertFalse(actual.contains("dev.tsm") || actual.contains("java."), actual);
  }

  // ---- GET /tables -----------------------------------------------------------------------------

  @Test
  void tablesListsExportableTables() {
    Db.execute(
        "CREATE TABLE public.exp_listed (id bigint PRIMARY KEY, \"Mixed Case\" text,"
            + " price numeric(10,2), day date)");
    Db.execute(
        "INSERT INTO public.exp_listed SELECT g, 'x', g, current_date FROM generate_series(1, 30) g");
    Db.execute("ANALYZE public.exp_listed");
    Db.execute("CREATE TABLE public.exp_listed_nopk (a text)");
    Db.execute("CREATE VIEW public.exp_listed_view AS SELECT 1 AS one");
    Db.execute("CREATE SCHEMA IF NOT EXISTS exp_other");
    Db.execute("CREATE TABLE exp_other.hidden (id integer PRIMARY KEY)");

    JsonPath tables = given().get("/tables").then().statusCode(200).extract().jsonPath();
    List<Map<String, Object>> all = tables.getList("$");
    assertFalse(all.isEmpty());
    for (Map<String, Object> t : all) {
      assertEquals("public", t.get("schema"), "only allowed schemas, never tsm: " + t);
    }
    List<String> names = all.stream().map(t -> (String) t.get("name")).toList();
    assertTrue(names.contains("exp_listed") && names.contains("exp_listed_nopk"), names.toString());
    assertFalse(names.contains("exp_listed_view"), "views are not listed");
    assertFalse(names.contains("hidden"), "schemas not allowed are not listed");
    assertFalse(names.contains("task"), "the service's own tables are not listed");

    Map<String, Object> listed = all.get(names.indexOf("exp_listed"));
    assertEquals(true, listed.get("primaryKey"));
    assertEquals(30, ((Number) listed.get("estimatedRows")).intValue());
    assertEquals(
        List.of(
            Map.of("name", "id", "type", "bigint"),
            Map.of("name", "Mixed Case", "type", "text"),
            Map.of("name", "price", "type", "numeric(10,2)"),
            Map.of("name", "day", "type", "date")),
        listed.get("columns"));
    Map<String, Object> nopk = all.get(names.indexOf("exp_listed_nopk"));
    assertEquals(false, nopk.get("primaryKey"));
  }
}
