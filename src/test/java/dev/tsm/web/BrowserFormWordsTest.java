package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TaskPage;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Refusals in the page's words: the form's choices rather than API parameters, a picture picked by
 * mistake called what it is, and the field a refusal is about marked and focused.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
class BrowserFormWordsTest extends BrowserTest {
  /** A 1x1 PNG image. */
  static final byte[] PNG =
      Base64.getDecoder()
          .decode(
              "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                  + "AAAABJRU5ErkJggg==");

  @Test
  void anExistingTableIsRefusedInThePagesWordsAndItsFieldMarked(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Db.execute(
              "DROP TABLE IF EXISTS public.web_taken; CREATE TABLE public.web_taken (a int)");
          TaskPage p = open();
          p.chooseFile(CsvFiles.write("page-taken.csv", "a\n1\n"));
          p.table("web_taken");
          p.submitImport();
          String message = p.awaitImportError();
          assertTrue(message.contains("choose \"Append to an existing table\""), message);
          assertFalse(message.contains("mode="), message);
          assertEquals("true", p.byId("import-table").getDomAttribute("aria-invalid"));
          assertEquals(
              "import-table", p.script("return document.activeElement.id"), "the field focused");
          // typing in it clears the mark
          p.table("web_taken_2");
          assertEquals(null, p.byId("import-table").getDomAttribute("aria-invalid"));
        });
  }

  @Test
  void aPictureRenamedCsvIsNotACsvTextFile(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Path png = CsvFiles.write("page-picture.csv", PNG);
          TaskPage p = open();
          p.chooseFile(png);
          p.await(
              "the preview's refusal",
              d -> p.byId("preview-note").getText().contains("not a CSV text file"));
          assertTrue(p.byId("preview-note").getText().contains("PNG image"));
          p.submitImport();
          String message = p.awaitImportError();
          assertTrue(message.contains("This is not a CSV text file"), message);
          assertTrue(message.contains("PNG image"), message);
          assertFalse(message.contains("byte sequence"), message);
          // refused: the upload bar does not claim the bytes went in
          assertTrue(p.uploadPercent() < 100, "upload bar at " + p.uploadPercent());
          assertFalse(p.byId("upload-percent").getText().startsWith("100"));
        });
  }
}
