package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Multipart;
import dev.tsm.support.Staged;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * multipart/form-data uploads take the path of raw bodies: the file part is streamed to the store
 * as it arrives, under the same size limit; other fields are allowed, other file parts are not.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class MultipartImportTest {

  @Test
  void theFilePartLoadsLikePsqlCopyWithOtherFieldsAround() throws IOException {
    Path file = CsvFiles.mixed("multipart-fields.csv", 5000, 31);
    byte[] body =
        new Multipart()
            .field("note", "before the file")
            .file("file", "sales.csv", Files.readAllBytes(file))
            .field("after", "and after it")
            .bytes();
    Response r =
        given()
            .contentType(Multipart.CONTENT_TYPE)
            .queryParam("table", "multipart_fields")
            .body(body)
            .post("/imports");
    assertEquals(202, r.statusCode(), r.asString());
    String id = r.jsonPath().getString("id");
    assertEquals(5000, Api.awaitState(id, "COMPLETED", "FAILED").getLong("rowsDone"));
    Db.copyReference("ref_multipart_fields", "public.multipart_fields", file, ", HEADER true");
    Db.assertSameRows("ref_multipart_fields", "public.multipart_fields");
  }

  @Test
  void aFilePartOverTheBodyLimitIs413AndLeavesNoFile() throws IOException {
    byte[] csv = Files.readAllBytes(CsvFiles.mixed("multipart-big.csv", 70_000, 32));
    assertTrue(csv.length > 4 << 20, "over the 4 MiB limit of the tests: " + csv.length);
    Set<Path> before = Staged.files();
    Response r =
        given()
            .multiPart("file", "big.csv", csv, "text/csv")
            .queryParam("table", "multipart_big")
            .post("/imports");
    assertProblem(r, 413, "larger than the limit", "tsm.import.max-body-size");
    Staged.assertNothingLeftFor("multipart_big", before);
  }

  @Test
  void aSecondFilePartIs400() {
    Set<Path> before = Staged.files();
    byte[] body =
        new Multipart()
            .file("file", "a.csv", "id\n1\n".getBytes())
            .file("other", "b.csv", "id\n2\n".getBytes())
            .bytes();
    Response r =
        given()
            .contentType(Multipart.CONTENT_TYPE)
            .queryParam("table", "two_files")
            .body(body)
            .post("/imports");
    assertProblem(r, 400, "one file", "'other'");
    Staged.assertNothingLeftFor("two_files", before);
  }

  @Test
  void aFileSentAsAPlainFieldIs400() {
    byte[] body = new Multipart().field("file", "id\n1\n").bytes();
    Response r =
        given()
            .contentType(Multipart.CONTENT_TYPE)
            .queryParam("table", "plain_field")
            .body(body)
            .post("/imports");
    assertProblem(r, 400, "part named 'file'", "filename");
    assertFalse(Db.tableExists("public.plain_field"));
  }
}
