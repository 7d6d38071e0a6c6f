package dev.tsm.importing;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Staged;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /imports/preview} (header, types with reasons, first rows, problems; nothing
 * written), and the {@code types} and {@code rename} of an import.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportPreviewTest {

  private static Response preview(String csv, Map<String, ?> params) {
    return given().contentType("text/csv").queryParams(params).body(csv).post("/imports/preview");
  }

  /** 40 rows: zip with leading zeros in 4, amount numeric, day a date; two bad rows. */
  private static String sampleFile() {
    StringBuilder csv = new StringBuilder("Zip Code,amount,day\n");
    for (int i = 1; i <= 40; i++) {
      String zip = i % 10 == 0 ? String.format("%05d", i) : String.valueOf(10000 + i);
      csv.append(zip)
          .append(',')
          .append(i)
          .append(".25,2024-03-")
          .append(i % 28 + 1 < 10 ? "0" : "");
      csv.append(i % 28 + 1).append('\n');
      if (i == 5) {
        csv.append("99999,1\n"); // line 7: a field short
      }
      if (i == 20) {
        csv.append("99999,1,2024-01-01,extra\n"); // line 23: one too many
      }
    }
    return csv.toString();
  }

  @Test
  void previewAnswersColumnsTypesReasonsRowsAndProblemsWritingNothing() {
    Set<Path> before = Staged.files();
    List<String> staging = Db.stagingTables();
    long tasks = Db.count("SELECT count(*) FROM tsm.task");
    Response r = preview(sampleFile(), Map.of("table", "pv_first"));
    assertEquals(200, r.statusCode(), r.asString());
    JsonPath p = r.jsonPath();
    assertEquals(List.of("Zip Code", "amount", "day"), p.getList("header"));
    assertEquals(List.of("Zip Code", "amount", "day"), p.getList("columns.name"));
    assertEquals(List.of("text", "numeric", "date"), p.getList("columns.type"));
    assertEquals(
        "text: leading zeros in 4 of 40 sampled values (e.g. '00010' on line 12): codes, not"
            + " numbers",
        p.getString("columns[0].reason"));
    assertEquals(
        "numeric: all 40 sampled values are numbers, 40 with a fraction, an exponent or beyond"
            + " bigint range (e.g. '1.25' on line 2)",
        p.getString("columns[1].reason"));
    assertEquals(
        "date: all 40 sampled values are dates (YYYY-MM-DD)", p.getString("columns[2].reason"));
    assertEquals(40, p.getInt("columns[0].sampled"));
    assertEquals(0, p.getInt("columns[0].nulls"));
    assertEquals(List.of("10001", "1.25", "2024-03-02"), p.getList("rows[0]"));
    assertEquals(20, p.getList("rows").size());
    assertEquals(List.of(7, 23), p.getList("problems.line"));
    assertEquals("expected 3 fields, found 2", p.getString("problems[0].reason"));
    assertEquals(42, p.getInt("sampledRows"));

    assertEquals(tasks, Db.count("SELECT count(*) FROM tsm.task"), "no task");
    assertEquals(staging, Db.stagingTables(), "no staging table");
    Staged.assertNothingLeftFor("pv_first", before);
  }

  @Test
  void previewExplainsTextAndShowsValuesAChosenTypeDoesNotTake() {
    String csv = "code,amount\n1,2\n2,n/a\n3,4\n4,123456789012.5\n";
    JsonPath p =
        preview(csv, Map.of("types", "amount:numeric(12,2)", "rename", "code:id"))
            .then()
            .statusCode(200)
            .extract()
            .jsonPath();
    assertEquals(List.of("id", "amount"), p.getList("columns.name"));
    assertEquals(
        "integer: all 4 sampled values are whole numbers in int4 range",
        p.getString("columns[0].reason"));
    assertEquals("numeric(12,2)", p.getString("columns[1].type"));
    assertEquals("text", p.getString("columns[1].inferred"));
    assertTrue(
        p.getString("columns[1].reason")
            .endsWith("text: 1 of 4 sampled values are not numbers (e.g. 'n/a' on line 3)"),
        p.getString("columns[1].reason"));
    assertEquals(List.of(3, 5), p.getList("problems.line"));
    assertTrue(p.getString("problems[0].reason").contains("'n/a' does not fit numeric(12,2)"));
    assertTrue(p.getString("problems[1].reason").contains("overflow"), p.prettify());
  }

  /** zip,amount,name with zips that look like integers and amounts of three decimals. */
  private static Path typedFile(String name, int rows) {
    StringBuilder csv = new StringBuilder("Zip Code,amount,name\n");
    for (int i = 1; i <= rows; i++) {
      csv.append(10000 + i % 90000)
          .append(',')
          .append(i % 100000)
          .append('.')
          .append(String.format("%03d", i % 1000))
          .append(",n")
          .append(i)
          .append('\n');
    }
    return CsvFiles.write(name, csv.toString());
  }

  @Test
  void typesAndRenameMakeTheTableEvenWhenPausedAndResumed() {
    Path file = typedFile("pv_typed.csv", 60_000);
    Map<String, String> params =
        Map.of("types", "zip:text,amount:numeric(12,2)", "rename", "Zip Code:zip");
    String id = Api.startImport("pv_typed", file, params);
    for (int i = 1; i <= 2; i++) {
      if (Api.pauseAt(id, i * 15_000L) == null) {
        break;
      }
      Api.command(id, "resume").then().statusCode(202);
    }
    Api.awaitState(id, Duration.ofSeconds(60), "COMPLETED");
    assertEquals(
        List.of(
            List.of("zip", "text"), List.of("amount", "numeric(12,2)"), List.of("name", "text")),
        Db.columns("pv_typed"));
    Db.copyReference("pv_typed_ref", "pv_typed", file, ", HEADER true");
    Db.assertSameRows("pv_typed_ref", "pv_typed");
    assertEquals(
        "{\"zip\": \"text\", \"amount\": \"numeric(12,2)\"}",
        Db.single("SELECT options->'types' FROM tsm.task WHERE id = '" + id + "'"));
  }

  @Test
  void aValueThatDoesNotFitItsChosenTypeIsABadRow() {
    Path file =
        CsvFiles.write("pv_misfit.csv", "zip,amount\n01001,1.5\n02002,12345678901.25\n03003,7\n");
    String id =
        Api.startImport(
            "pv_misfit", file, Map.of("types", "amount:numeric(12,2)", "onError", "skip"));
    JsonPath done = Api.awaitState(id, "COMPLETED");
    assertEquals(1, done.getLong("rowsSkipped"), done.prettify());
    assertEquals(
        List.of(List.of("01001", "1.50"), List.of("03003", "7.00")),
        Db.rows("SELECT zip, amount FROM pv_misfit ORDER BY zip"));
    String rejects = given().get("/tasks/" + id + "/rejects").asString();
    assertTrue(rejects.contains("3,") && rejects.contains("overflow"), rejects);
  }

  @Test
  void renameMatchesAnExistingTable() {
    Db.execute("CREATE TABLE pv_existing (id integer, label text)");
    Path file = CsvFiles.write("pv_existing.csv", "Number,Label Text\n1,a\n2,b\n");
    String id =
        Api.startImport(
            "pv_existing", file, Map.of("mode", "append", "rename", "Number:id,Label Text:label"));
    Api.awaitState(id, "COMPLETED");
    assertEquals(
        List.of(List.of("1", "a"), List.of("2", "b")),
        Db.rows("SELECT id, label FROM pv_existing ORDER BY id"));
  }

  @Test
  void badTypesAndNamesAreRefusedBeforeAnythingExists() {
    Set<Path> before = Staged.files();
    String csv = "zip,amount\n01001,1\n";
    // What is refused, for an import and its preview alike, and a word of the answer.
    Map<String, String[]> refusals =
        Map.of(
            "no type", new String[] {"types", "amount:nosuchtype", "no such type"},
            "pseudo-type", new String[] {"types", "amount:record", "not a type a column"},
            "bad modifier", new String[] {"types", "amount:numeric(2000,2)", "precision"},
            "syntax", new String[] {"types", "amount:text); drop table x", "not a PostgreSQL"},
            "unknown column", new String[] {"types", "nope:text", "nope"},
            "unknown rename", new String[] {"rename", "nope:x", "nope"},
            "duplicate", new String[] {"rename", "zip:amount", "two columns are named"},
            "system name", new String[] {"rename", "zip:ctid", "ctid"});
    refusals
        .values()
        .forEach(
            r -> {
              Response answer =
                  given()
                      .contentType("text/csv")
                      .queryParam("table", "pv_refused")
                      .queryParam(r[0], r[1])
                      .body(csv)
                      .post("/imports");
              assertProblem(answer, 400, r[2]);
              assertProblem(preview(csv, Map.of(r[0], r[1])), 400, r[2]);
            });
    assertProblem(
        given()
            .contentType("text/csv")
            .queryParam("table", "pv_refused")
            .queryParam("mode", "append")
            .queryParam("types", "zip:text")
            .body(csv)
            .post("/imports"),
        400,
        "types",
        "mode=create");
    Staged.assertNothingLeftFor("pv_refused", before);
  }
}
