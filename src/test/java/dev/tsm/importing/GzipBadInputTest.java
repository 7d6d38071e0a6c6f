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
import dev.tsm.support.Gzip;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.Staged;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A gzip body that cannot be decompressed, or decompresses past the size limit, leaves nothing: no
 * task, file or table when found before the answer (a small body is checked whole first: 400 or
 * 413); a task TERMINATED with the reason, and no staging table, file or target table, when found
 * after a large body's task started loading. Test profile: bodies up to 4M.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class GzipBadInputTest {
  /** What is wrong with a gzip stream, how to make it so, and words its reason holds. */
  enum Damage {
    TRUNCATED(gz -> Arrays.copyOf(gz, gz.length - gz.length / 50), "truncated after"),
    BAD_CRC(gz -> flip(gz, gz.length - 8), "fails its CRC-32 check"),
    BAD_DEFLATE(gz -> set(gz, 10, 0x07), "invalid deflate data"),
    TRAILING_GARBAGE(
        gz -> join(gz, "junk".getBytes(StandardCharsets.US_ASCII)), "trailing garbage");

    final UnaryOperator<byte[]> make;
    final String reason;

    Damage(UnaryOperator<byte[]> make, String reason) {
      this.make = make;
      this.reason = reason;
    }
  }

  @ParameterizedTest
  @EnumSource(Damage.class)
  void aSmallDamagedBodyIs400AndLeavesNothing(Damage damage) throws IOException {
    byte[] gz = damage.make.apply(gzip(CsvFiles.mixed("gz-bad.csv", 2000, 61)));
    String table = "gz_" + damage.name().toLowerCase();
    Set<Path> before = Staged.files();
    Response r =
        given()
            .contentType("text/csv")
            .header("Content-Encoding", "gzip")
            .queryParam("table", table)
            .body(gz)
            .post("/imports");
    assertProblem(r, 400, "cannot be decompressed", damage.reason, "nothing of it is kept");
    Staged.assertNothingLeftFor(table, before);
  }

  @Test
  void aTruncatedFilePartFoundByItsMagicIs400AndLeavesNothing() throws IOException {
    byte[] gz = Damage.TRUNCATED.make.apply(gzip(CsvFiles.mixed("gz-bad-part.csv", 2000, 62)));
    Set<Path> before = Staged.files();
    Response r =
        given()
            .multiPart("file", "data.csv", gz, "text/csv")
            .queryParam("table", "gz_bad_part")
            .post("/imports");
    assertProblem(r, 400, "cannot be decompressed", "truncated after");
    Staged.assertNothingLeftFor("gz_bad_part", before);
  }

  @Test
  void aPlainBodySaidToBeGzipIs400() {
    Set<Path> before = Staged.files();
    Response r =
        given()
            .contentType("text/csv")
            .header("Content-Encoding", "gzip")
            .queryParam("table", "gz_not_gzip")
            .body("id,name\n1,Ada\n")
            .post("/imports");
    assertProblem(r, 400, "not a gzip stream", "1f 8b");
    Staged.assertNothingLeftFor("gz_not_gzip", before);
  }

  @Test
  void anotherContentEncodingIs400BeforeTheBodyIsRead() {
    Response br =
        given()
            .contentType("text/csv")
            .header("Content-Encoding", "br")
            .queryParam("table", "gz_br")
            .body("id\n1\n")
            .post("/imports");
    assertProblem(br, 400, "Content-Encoding 'br' is not supported");
    Response multipart =
        given()
            .multiPart("file", "data.csv", "id\n1\n".getBytes(), "text/csv")
            .header("Content-Encoding", "gzip")
            .queryParam("table", "gz_multipart_coded")
            .post("/imports");
    assertProblem(multipart, 400, "multipart body cannot have a Content-Encoding", ".gz");
    assertFalse(Db.tableExists("public.gz_br"));
  }

  @Test
  void aGzipBombIs413OnceItsDecompressedSizePassesTheLimit() {
    byte[] gz = bomb(new byte[0]);
    assertTrue(gz.length < 1 << 20, "a small body: " + gz.length);
    Set<Path> before = Staged.files();
    Response r =
        given().contentType("text/csv").queryParam("table", "gz_bomb").body(gz).post("/imports");
    assertProblem(
        r, 413, "decompressed upload passed the limit of 4194304", "tsm.import.max-body-size");
    Staged.assertNothingLeftFor("gz_bomb", before);
  }

  /**
   * A large body (over 1 MiB, so followed) whose gzip stream proves bad once its task started
   * loading: the task ends TERMINATED with the reason, and leaves nothing; the client is answered
   * with the same reason.
   */
  @ParameterizedTest
  @EnumSource(
      value = Damage.class,
      names = {"TRUNCATED", "BAD_CRC"})
  void aLargeDamagedBodyTerminatesItsTaskWithTheReason(Damage damage) throws IOException {
    byte[] plain = Files.readAllBytes(CsvFiles.mixed("gz-bad-large.csv", 30_000, 63));
    byte[] gz = damage.make.apply(GzipImportTest.storedThenDeflated(plain));
    assertEndsTerminated("gz_large_" + damage.name().toLowerCase(), gz, 400, damage.reason);
  }

  @Test
  void aLargeGzipBombTerminatesItsTaskAt413() throws IOException {
    byte[] plain = Files.readAllBytes(CsvFiles.mixed("gz-bomb-large.csv", 20_000, 64));
    byte[] gz = bomb(plain);
    assertTrue(gz.length > 1 << 20, "followed: " + gz.length);
    assertEndsTerminated("gz_large_bomb", gz, 413, "decompressed upload passed the limit");
  }

  private static void assertEndsTerminated(String table, byte[] gz, int status, String reason) {
    try (SlowUpload upload =
        SlowUpload.start(RestAssured.port, "table=" + table, "Content-Encoding: gzip\r\n", gz)) {
      upload.send(gz.length * 3 / 4); // over 1 MiB of CSV: written, so sampled
      String id = Db.awaitTaskOf(table);
      Api.awaitRows(id, 1);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 " + status), response);
      assertMentions(response, List.of("application/problem+json", reason));

      JsonPath ended = Api.awaitState(id, "TERMINATED", "COMPLETED");
      assertEquals("TERMINATED", ended.getString("state"), ended.prettify());
      assertMentions(ended.getString("error"), List.of(reason));
      assertFalse(Db.tableExists("public." + table), "no target table");
      String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
      assertFalse(Db.tableExists("tsm." + staging), "no staging table");
      assertTrue(
          Staged.files().stream().noneMatch(p -> p.toString().contains(id)), "no staged file");
    }
  }

  /**
   * {@code plain} (a file of {@link CsvFiles#mixed}, or nothing) stored as it is (level 0: large),
   * then a member of rows valid for it that decompresses to 8 MiB from a few KiB: twice the limit
   * of the tests.
   */
  private static byte[] bomb(byte[] plain) {
    ByteArrayOutputStream csv = new ByteArrayOutputStream();
    if (plain.length == 0) {
      csv.writeBytes("id,code,amount,big,active,day,at,name\n".getBytes(StandardCharsets.US_ASCII));
    }
    byte[] row =
        "7,00042,12.50,5000000001,true,2024-01-02,2024-03-04 05:06:07,Ada\n"
            .getBytes(StandardCharsets.US_ASCII);
    while (csv.size() < 8 << 20) {
      csv.writeBytes(row);
    }
    byte[] rows = csv.toByteArray();
    byte[] bomb = Gzip.member(rows, 0, rows.length, 9, Gzip.Header.BARE);
    return plain.length == 0
        ? bomb
        : join(Gzip.member(plain, 0, plain.length, 0, Gzip.Header.BARE), bomb);
  }

  private static byte[] gzip(Path file) throws IOException {
    return Gzip.of(Files.readAllBytes(file));
  }

  private static byte[] flip(byte[] bytes, int at) {
    byte[] copy = bytes.clone();
    copy[at] ^= 0x5a;
    return copy;
  }

  private static byte[] set(byte[] bytes, int at, int value) {
    byte[] copy = bytes.clone();
    copy[at] = (byte) value;
    return copy;
  }

  private static byte[] join(byte[] first, byte[] second) {
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }
}
