package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
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
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A volume that cannot keep {@code tsm.storage.min-free-space} free (asked for more than any disk
 * has): every upload, raw, chunked or multipart, is refused with 507 before a byte of it is
 * written, and the rest of the API goes on.
 */
@QuarkusTest
@TestProfile(FreeSpaceTest.NoDiskIsThatLarge.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class FreeSpaceTest {
  private static final Path IMPORTS = Path.of("target", "test-files", "imports");

  /** More free space than any volume has. */
  public static class NoDiskIsThatLarge implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tsm.storage.min-free-space", "1000000T");
    }
  }

  @Test
  void everyUploadIs507AndNothingIsStaged() throws IOException {
    byte[] csv = Files.readAllBytes(CsvFiles.mixed("no-space.csv", 200, 3));
    Response raw =
        given().contentType("text/csv").queryParam("table", "no_space").body(csv).post("/imports");
    assertProblem(raw, 507, "free", "tsm.storage.min-free-space");
    assertEquals("Insufficient Storage", raw.jsonPath().getString("title"));

    Response chunked =
        given()
            .contentType("text/csv")
            .queryParam("table", "no_space")
            .body(new ByteArrayInputStream(csv))
            .post("/imports");
    assertProblem(chunked, 507, "free", "tsm.storage.min-free-space");

    Response multipart =
        given()
            .multiPart("file", "no-space.csv", csv, "text/csv")
            .queryParam("table", "no_space")
            .post("/upload/start");
    assertProblem(multipart, 507, "free", "tsm.storage.min-free-space");

    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name = 'no_space'"));
    assertFalse(Db.tableExists("public.no_space"));
    if (Files.isDirectory(IMPORTS)) {
      try (var staged = Files.list(IMPORTS)) {
        assertTrue(staged.findAny().isEmpty(), "nothing staged");
      }
    }
    given().get("/tasks").then().statusCode(200);
  }
}
