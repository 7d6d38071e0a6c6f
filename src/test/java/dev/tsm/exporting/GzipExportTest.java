package dev.tsm.exporting;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Db;
import dev.tsm.support.Exports;
import dev.tsm.support.Gzip;
import dev.tsm.support.MixedTable;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Exports asked with {@code "compression": "gzip"}: one gzip member a page, so that every
 * checkpoint is a member boundary. Each file, paused, resumed, followed or cut into ranges, must
 * decompress to the bytes of the plain export and of {@code psql \copy (SELECT ...) TO}. Pages are
 * 500 rows in the test profile.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class GzipExportTest {
  @TestHTTPResource("/")
  URL base;

  private static final String PROBLEM = "application/problem+json";
  private static final String GZIP = "application/gzip";
  private static final int PAGE = 500;
  private static final int ROWS = MixedTable.ROWS;
  private static final Map<String, String> ALL_GZIP =
      Map.of("table", "exp_all", "compression", "gzip");

  @Test
  void pausedAndResumedGzipExportDecompressesToThePlainExportAndPsqlCopy() {
    MixedTable.create();
    byte[] expected = Exports.reference("gz-all", MixedTable.SELECT, ", HEADER");
    String plain = Exports.start(Map.of("table", "exp_all"));
    String id = Exports.start(ALL_GZIP);
    String terminated = Exports.start(ALL_GZIP);
    assertEquals("gzip", Api.task(id).getString("options.compression"));
    assertEquals("none", Api.task(plain).getString("options.compression"));

    // Another gzip export, terminated mid-way, leaves nothing behind.
    Api.awaitRows(terminated, 2 * PAGE);
    Api.command(terminated, "terminate").then().statusCode(202);
    Api.awaitState(terminated, "TERMINATED");
    assertFalse(Files.exists(Exports.part(terminated)), "no .part file");
    assertFalse(Files.exists(Exports.file(terminated)), "no file");

    int pauses = 0;
    for (long point : new long[] {3 * PAGE, 11 * PAGE + 1, 20 * PAGE + 7, 31 * PAGE}) {
      JsonPath paused = Api.pauseAt(id, point);
      if (paused == null) {
        break;
      }
      if (paused.getLong("rowsDone") < ROWS) {
        assertPausedGzipIsConsistent(id, paused);
        pauses++;
      }
      Api.command(id, "resume").then().statusCode(202);
    }
    assertTrue(pauses >= 2, "paused " + pauses + " times");

    byte[] file = assertCompletedGzip(id, expected);
    assertEquals(1 + ROWS / PAGE, Gzip.members(file), "a member for the header, one a page");
    byte[] plainFile = Exports.download(plain);
    Exports.assertSameBytes(expected, plainFile, "the plain export");
    Exports.assertSameBytes(plainFile, Gzip.decompress(file), "gzip export, decompressed");
    assertTrue(file.length < plainFile.length, file.length + " bytes, plain " + plainFile.length);
  }

  /**
   * While paused: the .part file is exactly the checkpoint's bytes, whole members that decompress
   * to the first rowsDone rows of the reference; nothing moves.
   */
  private static void assertPausedGzipIsConsistent(String id, JsonPath paused) {
    long rows = paused.getLong("rowsDone");
    long bytes = paused.getLong("bytesDone");
    assertEquals(0, rows % PAGE, "paused at a page boundary: " + rows);
    Path part = Exports.part(id);
    assertEquals(bytes, Exports.size(part), ".part length = bytesDone");
    byte[] written = Exports.read(part);
    assertEquals(1 + rows / PAGE, Gzip.members(written), "whole members up to the checkpoint");
    byte[] prefix =
        Exports.reference("gz-prefix-" + rows, MixedTable.SELECT + " LIMIT " + rows, ", HEADER");
    Exports.assertSameBytes(prefix, Gzip.decompress(written), "the .part after " + rows + " rows");
    Api.assertStaysPaused(
        id,
        rows,
        Duration.ofMillis(300),
        later -> assertEquals(bytes, Exports.size(part), "a paused export does not write"));
  }

  /**
   * Waits for COMPLETED; checks the stored file against the checkpoint and the download, and that
   * Java and the gzip command decompress it to {@code expected}. Returns the file.
   */
  private static byte[] assertCompletedGzip(String id, byte[] expected) {
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED", "TERMINATED");
    assertEquals("COMPLETED", done.getString("state"), "error: " + done.getString("error"));
    assertEquals("gzip", done.getString("options.compression"));
    Path stored = Exports.file(id);
    byte[] file = Exports.read(stored);
    assertEquals(file.length, done.getLong("bytesDone"), "bytesDone = the compressed file's size");
    Response download = given().get("/tasks/" + id + "/file");
    assertEquals(200, download.statusCode(), download.asString());
    assertEquals(GZIP, download.contentType());
    assertNull(download.header("Content-Encoding"), "the file is gzip, not its transfer");
    assertEquals(
        "attachment; filename=\"" + done.getString("table").substring(7) + ".csv.gz\"",
        download.header("Content-Disposition"));
    assertEquals(Long.toString(file.length), download.header("Content-Length"));
    Exports.assertSameBytes(file, download.asByteArray(), "download of " + id);
    Exports.assertSameBytes(expected, Gzip.decompress(file), "GZIPInputStream");
    Exports.assertSameBytes(expected, Gzip.gunzip(stored), "gzip -dc");
    return file;
  }

  @Test
  void rangesOfTheGzipFileConcatenateToIt() {
    MixedTable.create();
    String id = Exports.start(ALL_GZIP);
    byte[] file =
        assertCompletedGzip(id, Exports.reference("gz-ranges", MixedTable.SELECT, ", HEADER"));
    int size = file.length;
    String path = "/tasks/" + id + "/file";
    String etag = given().get(path).header("ETag");
    assertNotNull(etag);

    // Three ranges, cut inside members: together they are the file, which then decompresses.
    int mid = size / 2 + 3;
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    for (String range : List.of("0-99", "100-" + mid, (mid + 1) + "-")) {
      Response part = given().header("Range", "bytes=" + range).get(path);
      assertEquals(206, part.statusCode(), range + ": " + part.asString());
      assertEquals(GZIP, part.contentType());
      assertNull(part.header("Content-Encoding"));
      assertEquals(etag, part.header("ETag"));
      long first = Long.parseLong(range.substring(0, range.indexOf('-')));
      long last =
          range.endsWith("-") ? size - 1 : Long.parseLong(range.substring(range.indexOf('-') + 1));
      assertEquals("bytes " + first + "-" + last + "/" + size, part.header("Content-Range"));
      joined.writeBytes(part.asByteArray());
    }
    Exports.assertSameBytes(file, joined.toByteArray(), "the ranges, joined");
    assertEquals(1 + ROWS / PAGE, Gzip.members(joined.toByteArray()));

    Response tail = given().header("Range", "bytes=-8").get(path);
    assertEquals(206, tail.statusCode());
    assertArrayEquals(Arrays.copyOfRange(file, size - 8, size), tail.asByteArray(), "trailer");
    assertEquals(304, given().header("If-None-Match", etag).get(path).statusCode());
    Response beyond = given().header("Range", "bytes=" + size + "-").get(path);
    assertEquals(416, beyond.statusCode(), beyond.asString());
    assertEquals("bytes */" + size, beyond.header("Content-Range"));
  }

  @Test
  void followedGzipDownloadIsTheFinishedFile() throws Exception {
    Db.execute("CREATE TABLE public.exp_gz_follow (id bigint PRIMARY KEY, label text, n numeric)");
    Db.execute(
        "INSERT INTO public.exp_gz_follow SELECT g, 'row ' || g || ', \"q\"', g / 3.0"
            + " FROM generate_series(1, 30000) g");
    byte[] expected =
        Exports.reference(
            "gz-follow", "SELECT * FROM public.exp_gz_follow ORDER BY id", ", HEADER");
    String id = Exports.start(Map.of("table", "exp_gz_follow", "compression", "gzip"));
    HttpResponse<InputStream> followed = Exports.follow(base, id);
    assertEquals(200, followed.statusCode());
    assertEquals(GZIP, followed.headers().firstValue("Content-Type").orElse(null));
    assertTrue(followed.headers().firstValue("Content-Encoding").isEmpty());
    assertEquals(
        "attachment; filename=\"exp_gz_follow.csv.gz\"",
        followed.headers().firstValue("Content-Disposition").orElse(null));
    CompletableFuture<byte[]> body = Exports.readAll(followed);

    Api.awaitRows(id, 4 * PAGE);
    Api.command(id, "pause").then().statusCode(202);
    Api.awaitState(id, "PAUSED");
    Api.command(id, "resume").then().statusCode(202);

    byte[] received = body.get(60, TimeUnit.SECONDS);
    byte[] file = assertCompletedGzip(id, expected);
    Exports.assertSameBytes(file, received, "download that followed " + id);
  }

  @Test
  void emptyTablesGiveValidGzipFiles() {
    Db.execute("CREATE TABLE public.exp_gz_empty (id integer PRIMARY KEY, \"Name\" text)");
    Db.execute("CREATE TABLE public.exp_gz_empty_nopk (a text)");

    String header = Exports.start(Map.of("table", "exp_gz_empty", "compression", "gzip"));
    assertEquals(
        1, Gzip.members(assertCompletedGzip(header, "id,Name\n".getBytes(StandardCharsets.UTF_8))));

    // No header and no rows: still a gzip file (an empty member), not an empty file.
    for (String table : List.of("exp_gz_empty", "exp_gz_empty_nopk")) {
      String bare = Exports.start(Map.of("table", table, "header", false, "compression", "gzip"));
      byte[] file = assertCompletedGzip(bare, new byte[0]);
      assertEquals(1, Gzip.members(file), table);
      assertEquals(0, Api.task(bare).getLong("rowsDone"));
    }
  }

  @Test
  void compressionOtherThanNoneOrGzipIsAProblem() {
    MixedTable.create();
    long tasks = Db.count("SELECT count(*) FROM tsm.task");
    for (Object value : List.of("zip", "GZIP", "", " gzip", "deflate", 9, true)) {
      Response r =
          given()
              .contentType("application/json")
              .body(Map.of("table", "exp_all", "compression", value))
              .post("/exports");
      assertEquals(400, r.statusCode(), value + ": " + r.asString());
      assertTrue(r.contentType().startsWith(PROBLEM), r.contentType());
      assertEquals(400, r.jsonPath().getInt("status"));
      String detail = r.jsonPath().getString("detail");
      assertTrue(
          detail.contains("'compression' must be one of [none, gzip]")
              && detail.contains("'" + value + "'"),
          value + ": " + detail);
    }
    Response shape =
        given()
            .contentType("application/json")
            .body("{\"table\": \"exp_all\", \"compression\": {\"kind\": \"gzip\"}}")
            .post("/exports");
    assertEquals(400, shape.statusCode(), shape.asString());
    assertTrue(shape.jsonPath().getString("detail").contains("'compression'"), shape.asString());
    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no task was created");

    // Named outright, none is the plain CSV file.
    String none = Exports.start(Map.of("table", "exp_all", "compression", "none"));
    assertEquals("none", Api.task(none).getString("options.compression"));
    Api.awaitState(none, "COMPLETED");
    Response download = given().get("/tasks/" + none + "/file");
    assertTrue(download.contentType().startsWith("text/csv"), download.contentType());
    assertEquals("attachment; filename=\"exp_all.csv\"", download.header("Content-Disposition"));
  }
}
