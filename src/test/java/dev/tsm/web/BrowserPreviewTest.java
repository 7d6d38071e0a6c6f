package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TaskPage;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The page's preview step in a real browser: a chosen file's columns are shown with their types and
 * why, a type and a name are changed, and the import makes the table so.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
class BrowserPreviewTest extends BrowserTest {

  @Test
  void previewShowsTheColumnsAndTheImportTakesTheChangedTypesAndNames(TestInfo info)
      throws Exception {
    StringBuilder csv = new StringBuilder("Zip Code,amount,name\n");
    for (int i = 1; i <= 300; i++) {
      csv.append(10000 + i).append(',').append(i).append(".125,n").append(i).append('\n');
    }
    csv.append("99999,1\n"); // line 302: a field short
    Path file = CsvFiles.write("page-preview.csv", csv.toString());
    browser.recordingFailures(
        name(info),
        () -> {
          TaskPage p = open();
          p.chooseFile(file);
          List<List<String>> columns = p.awaitPreview();
          assertEquals(
              List.of(
                  List.of(
                      "Zip Code",
                      "integer",
                      "integer: all 300 sampled values are whole numbers in int4 range"),
                  List.of(
                      "amount",
                      "numeric",
                      "numeric: all 300 sampled values are numbers, 300 with a fraction, an"
                          + " exponent or beyond bigint range (e.g. '1.125' on line 2)"),
                  List.of(
                      "name",
                      "text",
                      "text: 300 of 300 sampled values are not numbers, dates or booleans"
                          + " (e.g. 'n1' on line 2)")),
              columns);
          assertEquals(List.of("Line 302: expected 3 fields, found 2"), p.previewProblems());
          p.previewChange(0, "name", "zip");
          p.previewChange(0, "type", "text");
          p.previewChange(1, "type", "numeric(12,2)");
          p.table("web_preview");
          p.script(
              "const s = document.getElementById('import-on-error'); s.value = 'skip';"
                  + " s.dispatchEvent(new Event('change'));");
          p.submitImport();
          p.awaitRow("IMPORT", "public.web_preview").awaitState("COMPLETED");
          assertEquals(
              List.of(
                  List.of("zip", "text"),
                  List.of("amount", "numeric(12,2)"),
                  List.of("name", "text")),
              Db.columns("web_preview"));
          assertEquals(
              List.of(List.of("10001", "1.13", "n1")),
              Db.rows("SELECT zip, amount, name FROM web_preview WHERE name = 'n1'"));
          assertEquals(300, Db.count("SELECT count(*) FROM web_preview"));
          assertFalse(p.byId("preview").isDisplayed(), "the form is ready for the next file");
        });
  }
}
