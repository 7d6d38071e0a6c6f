package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Gzip;
import dev.tsm.support.Multipart;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * A gzip file imports as the CSV it decompresses to: the body is decompressed into the staged file
 * while it arrives, so pause and resume stay exact. Each import here equals the same file imported
 * plain and {@code psql \copy} of it.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class GzipImportTest {
  private static final int ROWS = 20_000;

  @Test
  void severalMembersWithContentEncodingPausedAndResumedEqualThePlainImport() throws IOException {
    Path file = CsvFiles.mixed("gz-members.csv", ROWS, 43);
    byte[] gz = Files.readAllBytes(Gzip.file(file, 9, 43));
    String id = started(raw(gz).header("Content-Encoding", "gzip"), "gz_members");
    assertTrue(pauseAndResume(id, 44) >= 1, "paused at least once before it completed");
    assertSameAsPlain(id, "gz_members", file);
  }

  @Test
  void oneMemberFoundByItsMagicBytesPausedAndResumedEqualsThePlainImport() throws IOException {
    Path file = CsvFiles.mixed("gz-magic.csv", ROWS, 47);
    byte[] gz = Files.readAllBytes(Gzip.file(file, 1, 47));
    String id = started(raw(gz), "gz_magic"); // no Content-Encoding: the first bytes tell
    assertTrue(pauseAndResume(id, 48) >= 1, "paused at least once before it completed");
    assertSameAsPlain(id, "gz_magic", file);
  }

  @Test
  void aGzipFilePartLoadsByItsNameOrItsMagicBytes() throws IOException {
    Path file = CsvFiles.mixed("gz-part.csv", 3000, 53);
    byte[] gz = Files.readAllBytes(Gzip.file(file, 3, 53));
    RequestSpecification named =
        given().multiPart("file", "sales.csv.gz", gz, "application/octet-stream");
    assertSameAsPlain(started(named, "gz_part_named"), "gz_part_named", file);
    byte[] body = new Multipart().field("note", "x").file("file", "sales.csv", gz).bytes();
    RequestSpecification unnamed = given().contentType(Multipart.CONTENT_TYPE).body(body);
    assertSameAsPlain(started(unnamed, "gz_part_magic"), "gz_part_magic", file);
  }

  /**
   * A body that decompresses to over a hundred times its size: what the disk cannot take yet is
   * held back with the body, and the body's end waits for it, every row kept.
   */
  @Test
  void aHighlyCompressedBodyLoadsWhole() throws IOException {
    StringBuilder csv = new StringBuilder("id,code,amount,day,name\n");
    while (csv.length() < 1536 << 10) { // over a write, so held back at least once
      csv.append("42,00042,12.50,2024-01-02,the same row again\n");
    }
    Path file = CsvFiles.write("gz-dense.csv", csv.toString());
    byte[] gz = Gzip.of(Files.readAllBytes(file));
    assertTrue(gz.length * 100 < Files.size(file), "dense: " + gz.length);
    assertSameAsPlain(
        started(raw(gz).header("Content-Encoding", "gzip"), "gz_dense"), "gz_dense", file);
  }

  /**
   * A gzip body over 1 MiB loads while it arrives: its plain length is unknown until its end
   * (bytesTotal null), then recorded; pause and resume while it arrives stay exact.
   */
  @Test
  void aLargeGzipBodyLoadsWhileItArrivesAndPausesExactly() throws IOException {
    Path file = CsvFiles.mixed("gz-arriving.csv", 30_000, 59);
    byte[] gz = storedThenDeflated(Files.readAllBytes(file));
    assertTrue(gz.length > 1 << 20, "followed: " + gz.length);
    try (SlowUpload upload =
        SlowUpload.start(RestAssured.port, "table=gz_arriving", "Content-Encoding: gzip\r\n", gz)) {
      upload.send(gz.length * 3 / 4); // over 1 MiB of CSV: written, so sampled
      String id = Db.awaitTaskOf("gz_arriving");
      JsonPath early = Api.awaitRows(id, 1);
      assertEquals("RUNNING", early.getString("state"));
      assertNull(early.get("bytesTotal"), "the plain length is not known yet");

      Api.command(id, "pause").then().statusCode(202);
      long paused = Api.awaitState(id, "PAUSED").getLong("rowsDone");
      String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
      assertEquals(paused, Db.count("SELECT count(*) FROM tsm." + staging));
      upload.send(gz.length / 8);
      Api.command(id, "resume").then().statusCode(202);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
      assertSameAsPlain(id, "gz_arriving", file);
    }
  }

  /** Half the file stored (deflate level 0, so the body is large), the rest deflated. */
  static byte[] storedThenDeflated(byte[] plain) {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    int half = plain.length / 2;
    gz.writeBytes(Gzip.member(plain, 0, half, 0, Gzip.Header.BARE));
    gz.writeBytes(Gzip.member(plain, half, plain.length, 6, Gzip.Header.BARE));
    return gz.toByteArray();
  }

  private static RequestSpecification raw(byte[] body) {
    return given().contentType("text/csv").body(body);
  }

  private static String started(RequestSpecification request, String table) {
    Response r = request.queryParam("table", table).post("/imports");
    assertEquals(202, r.statusCode(), r.asString());
    return r.jsonPath().getString("id");
  }

  /**
   * Pauses the import at a few random row counts, checking that its staging table holds exactly the
   * rows done, and resumes it; returns how many pauses took before it completed.
   */
  private static int pauseAndResume(String id, long seed) {
    Random random = new Random(seed);
    long[] points =
        LongStream.generate(() -> 1 + random.nextInt(ROWS - 2)).limit(3).sorted().toArray();
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    int pauses = 0;
    for (long point : points) {
      boolean running = "RUNNING".equals(Api.awaitRows(id, point).getString("state"));
      if (!running || Api.command(id, "pause").statusCode() != 202) {
        break; // completed first
      }
      JsonPath paused = Api.awaitState(id, "PAUSED", "COMPLETED");
      if ("COMPLETED".equals(paused.getString("state"))) {
        break;
      }
      pauses++;
      assertEquals(
          paused.getLong("rowsDone"), Db.count("SELECT count(*) FROM tsm." + staging), "exact");
      Api.command(id, "resume").then().statusCode(202);
    }
    return pauses;
  }

  /**
   * The import completed with the file's every row; it equals the same file imported plain, and
   * {@code psql \copy} of it; both tasks recorded the plain file's length and SHA-256.
   */
  private static void assertSameAsPlain(String id, String table, Path file) throws IOException {
    byte[] plain = Files.readAllBytes(file);
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED", "TERMINATED");
    assertEquals("COMPLETED", done.getString("state"), done.prettify());
    assertEquals(plain.length, done.getLong("bytesTotal"));
    assertEquals(plain.length, done.getLong("bytesDone"));
    String plainId = Api.startImport(table + "_plain", file);
    assertEquals("COMPLETED", Api.awaitState(plainId, "COMPLETED", "FAILED").getString("state"));
    Db.assertSameRows("public." + table + "_plain", "public." + table);
    Db.copyReference("ref_" + table, "public." + table, file, ", HEADER true");
    Db.assertSameRows("ref_" + table, "public." + table);
    String sha = "SELECT file_sha256 FROM tsm.task WHERE id = '%s'";
    assertEquals(sha256(plain), Db.single(sha.formatted(id)), "the hash of the file staged");
    assertEquals(Db.single(sha.formatted(plainId)), Db.single(sha.formatted(id)));
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
