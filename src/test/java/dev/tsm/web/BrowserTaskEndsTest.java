package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TaskPage;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

/**
 * How a task's end reads on the page: a failed or terminated card says why, a failed import goes on
 * skipping bad rows in one click, a resume that fails again shows that it was tried, an ended card
 * keeps only its live actions, and a task started from the page comes into view.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
class BrowserTaskEndsTest extends BrowserTest {

  /** 20 rows, line 12 (a header, then rows) with one field too few. */
  private static Path oneBadRow(String name) {
    StringBuilder csv = new StringBuilder("id,name\n");
    for (int i = 1; i <= 20; i++) {
      csv.append(i == 11 ? "11\n" : i + ",n" + i + "\n");
    }
    return CsvFiles.write(name, csv.toString());
  }

  @Test
  void aFailedImportSaysWhyAndGoesOnSkippingBadRows(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          TaskPage p = open();
          p.chooseFile(oneBadRow("page-bad-row.csv"));
          p.table("web_bad_row");
          p.submitImport();
          TaskPage.Row row = p.awaitRow("IMPORT", "public.web_bad_row").awaitState("FAILED");

          // the reason on the card; the "import started" message is replaced by how it ended
          WebElement error = row.find(".error");
          p.await("the reason", d -> error.getText().contains("Line 12: expected 2 fields"));
          assertTrue(error.getText().startsWith("Failed "), error.getText());
          String message = p.awaitImportError();
          assertTrue(message.contains("public.web_bad_row failed: Line 12"), message);
          // the failing record is in the rejects file
          String rejects = Auth.given().get("/tasks/" + row.id() + "/rejects").asString();
          assertEquals("line,reason,record\n12,\"expected 2 fields, found 1\",\"11\"\n", rejects);
          // ended: no disabled Pause; Resume, Terminate and the one-click retry remain
          assertFalse(row.button("pause").isDisplayed(), "no Pause on a failed card");
          assertTrue(row.button("resume").isDisplayed());

          // Resume fails again: the reason comes again, with a later time and a highlight
          String firstAt = error.getDomAttribute("data-at");
          row.click("resume");
          p.await("a new failure", d -> !firstAt.equals(error.getDomAttribute("data-at")));
          row.awaitState("FAILED");
          assertTrue(Integer.parseInt(error.getDomAttribute("data-flashes")) >= 2);
          browser.screenshot("failed-import");

          row.click("retry-skip");
          row.awaitState("COMPLETED");
          assertEquals("19 (1 skipped)", row.text(".rows"));
          assertEquals(19, Db.count("SELECT count(*) FROM public.web_bad_row"));
          assertFalse(row.find(".error").isDisplayed(), "no reason once completed");
          for (String b : new String[] {"pause", "resume", "terminate", "retry-skip"}) {
            assertFalse(row.button(b).isDisplayed(), b + " on a completed card");
          }
        });
  }

  @Test
  void aTerminatedCardSaysWhoEndedIt(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          TaskPage p = open();
          // an import fed by an upload that sent nothing yet: it waits until terminated
          String id = Api.startImportOfPartialUpload("web_terminated", new byte[0], 10);
          Api.command(id, "terminate");
          TaskPage.Row row = p.awaitRow(id).awaitState("TERMINATED");
          String reason = row.text(".error");
          assertTrue(reason.matches("Terminated .+: Terminated by alice on .+\\."), reason);
          assertEquals(
              0,
              row.element().findElements(org.openqa.selenium.By.cssSelector("button")).stream()
                  .filter(WebElement::isDisplayed)
                  .count(),
              "a terminated card has no buttons left");
        });
  }

  @Test
  void aStartedTaskComesIntoView(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Db.execute(
              "DROP TABLE IF EXISTS public.web_in_view;"
                  + " CREATE TABLE public.web_in_view AS SELECT g AS id FROM generate_series(1,"
                  + " 50) g");
          // enough cards to push the new one below the fold
          for (int i = 0; i < 6; i++) {
            Api.startImport("web_filler_" + i, CsvFiles.write("filler.csv", "a\n1\n"));
          }
          Dimension desktop = browser.driver().manage().window().getSize();
          try {
            for (Dimension size : new Dimension[] {desktop, new Dimension(390, 844)}) {
              browser.driver().manage().window().setSize(size);
              TaskPage p = open();
              p.awaitTable("public.web_in_view");
              p.script("window.scrollTo(0, 0)");
              Object shown = p.script(EXPORT_IDS);
              p.export("public.web_in_view");
              TaskPage.Row row = p.awaitRow(newExport(p, shown));
              row.awaitState("COMPLETED");
              p.await("the new card in view", d -> inView(p, row.element()));
              browser.screenshot("export-completed-" + size.getWidth());
            }
          } finally {
            browser.driver().manage().window().setSize(desktop);
          }
        });
  }

  private static final String EXPORT_IDS =
      "return [...document.querySelectorAll(\"li.task[data-kind='EXPORT']\")]"
          + ".map(r => r.dataset.taskId)";

  /** The id of the export card that was not there before. */
  private static String newExport(TaskPage p, Object before) {
    return p.await(
        "the export's card",
        d ->
            ((java.util.List<?>) p.script(EXPORT_IDS))
                .stream()
                    .map(String::valueOf)
                    .filter(id -> !((java.util.List<?>) before).contains(id))
                    .findFirst()
                    .orElse(null));
  }

  private static boolean inView(TaskPage p, WebElement card) {
    return Boolean.TRUE.equals(
        p.script(
            "const r = arguments[0].getBoundingClientRect();"
                + " return r.top >= 0 && r.bottom <= window.innerHeight;",
            card));
  }
}
