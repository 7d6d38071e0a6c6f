package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.RawResponse;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.Staged;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The staged-bytes quota (3 MiB here, under the 4 MiB body limit): it counts every staged import
 * file in the store, whoever wrote it, plus the bodies being received. A declared body that cannot
 * fit is refused before it is read; one of unknown length is stopped where it passes; 507 either
 * way, and nothing stays.
 */
@QuarkusTest
@TestProfile(StagingQuotaTest.TinyQuota.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class StagingQuotaTest {

  /** 3 MiB of staged uploads at most. */
  public static class TinyQuota implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tsm.storage.max-staged-bytes", "3M");
    }
  }

  @Test
  void aDeclaredBodyOverTheQuotaIs507BeforeItIsRead() throws IOException {
    byte[] body = csvOfAbout(3_500_000, "over-quota.csv");
    Set<Path> before = Staged.files();
    try (SlowUpload upload = SlowUpload.post("/imports?table=over_quota", "text/csv", body)) {
      // Nothing of the body is sent: the answer comes anyway, and the connection then closes.
      RawResponse r = upload.response(Duration.ofSeconds(10));
      r.assertProblem(507, "quota", "3145728", "tsm.storage.max-staged-bytes");
      assertEquals("close", r.header("Connection"));
    }
    Staged.assertNothingLeftFor("over_quota", before);
  }

  @Test
  void aChunkedBodyIsStoppedWhereItPassesTheQuota() throws IOException {
    byte[] body = csvOfAbout(3_500_000, "over-quota-chunked.csv");
    Set<Path> before = Staged.files();
    Response r =
        given()
            .contentType("text/csv")
            .queryParam("table", "over_quota_chunked")
            .body(new ByteArrayInputStream(body))
            .post("/imports");
    assertProblem(r, 507, "quota", "tsm.storage.max-staged-bytes");
    Staged.assertNothingLeftFor("over_quota_chunked", before);
  }

  @Test
  void aMultipartBodyOverTheQuotaIs507() throws IOException {
    byte[] body = csvOfAbout(3_500_000, "over-quota-multipart.csv");
    Set<Path> before = Staged.files();
    Response r =
        given()
            .multiPart("file", "big.csv", body, "text/csv")
            .queryParam("table", "over_quota_multipart")
            .post("/imports");
    assertProblem(r, 507, "quota", "tsm.storage.max-staged-bytes");
    Staged.assertNothingLeftFor("over_quota_multipart", before);
  }

  @Test
  void aBodyBeingReceivedCountsTowardsTheQuota() throws IOException {
    byte[] held = csvOfAbout(2_000_000, "held-quota.csv");
    Path second = CsvFiles.write("second-quota.csv", csvOfAbout(2_000_000, "second.csv"));
    try (SlowUpload upload = SlowUpload.start("table=held_quota", held)) {
      upload.send(held.length / 3);
      await().atMost(Duration.ofSeconds(10)).until(() -> !Staged.files().isEmpty());
      Response refused =
          given()
              .contentType("text/csv")
              .queryParam("table", "second_quota")
              .body(second.toFile())
              .post("/imports");
      assertProblem(refused, 507, "quota", "staged or arriving", "tsm.storage.max-staged-bytes");

      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
    }
    String first = Db.single("SELECT id FROM tsm.task WHERE table_name = 'held_quota'");
    assertEquals("COMPLETED", Api.awaitState(first, "COMPLETED", "FAILED").getString("state"));
    // Its staged file went with its completion: the second body fits now.
    String next = Api.startImport("second_quota", second);
    assertEquals("COMPLETED", Api.awaitState(next, "COMPLETED", "FAILED").getString("state"));
  }

  @Test
  void stagedFilesOfEveryInstanceCount() throws IOException {
    // Another replica's staged upload, in the shared store.
    assertCountedBeside(Staged.IMPORTS.resolve(UUID.randomUUID() + ".csv"), "beside_other");
  }

  @Test
  void aStrayFileInTheStoreCountsAndBreaksNothing() throws IOException {
    // A file no task named (an operator's copy, an editor's backup): it takes space like any.
    assertCountedBeside(Staged.IMPORTS.resolve("notes.txt"), "beside_stray");
  }

  /**
   * With {@code other} holding 2.5 MB of the 3 MB quota, a 1 MB import is refused; once it is gone,
   * the same import completes.
   */
  private static void assertCountedBeside(Path other, String table) throws IOException {
    Files.createDirectories(Staged.IMPORTS);
    Files.write(other, new byte[2_500_000]);
    Path file = CsvFiles.write(table + ".csv", csvOfAbout(1_000_000, table + "-src.csv"));
    try {
      Response r =
          given()
              .contentType("text/csv")
              .queryParam("table", table)
              .body(file.toFile())
              .post("/imports");
      assertProblem(r, 507, "2500000 bytes are staged", "tsm.storage.max-staged-bytes");
    } finally {
      Files.delete(other);
    }
    String id = Api.startImport(table, file);
    assertEquals("COMPLETED", Api.awaitState(id, "COMPLETED", "FAILED").getString("state"));
  }

  /** A CSV of a little more than {@code bytes} bytes. */
  private static byte[] csvOfAbout(int bytes, String name) throws IOException {
    byte[] body = Files.readAllBytes(CsvFiles.mixed(name, bytes / 72, 17));
    assertTrue(body.length >= bytes && body.length < 4 << 20, name + ": " + body.length);
    return body;
  }
}
