package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TaskPage;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.Alert;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The page's resumable uploads (tus 1.0) in a real browser: upload and load progress shown apart,
 * an upload continued after a reload when the same file is chosen again, and a cancelled upload
 * that terminates its import. Uploads are slowed by Chrome's network throttling so that each of
 * these moments happens mid-upload; every completed import is compared with {@code psql \copy}.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
class BrowserUploadTest extends BrowserTest {

  @AfterEach
  void fullSpeed() {
    browser.unthrottle();
  }

  @Test
  void uploadAndLoadProgressAreShownApart(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          // 45,000 rows (3.2 MB, under the test profile's 4 MB limit) in 256 KiB chunks at about
          // 1 MB/s: the import loads the first chunks while the later ones still go up.
          Path file = CsvFiles.mixed("page-tus.csv", 45_000, 21);
          long size = Files.size(file);
          TaskPage p = open();
          recordFigures(p);
          p.chunkSize(256 * 1024);
          TaskPage.Row row = upload(p, file, "web_tus", 1_000_000);
          p.await("the upload to finish", d -> p.uploadDone());
          browser.unthrottle();
          assertTrue(p.importMessage().contains("into public.web_tus started"), p.importMessage());
          assertEquals(100.0, p.uploadPercent());
          assertTrue(
              p.byId("upload-percent").getText().startsWith("100 %"),
              p.byId("upload-percent").getText());
          assertEquals(size, p.uploadSent(), "every byte sent once");

          row.awaitState("COMPLETED");
          p.await("the load figure at 100 %", d -> p.loadPercent() == 100.0);
          List<?> figures = (List<?>) p.script("return window.__figures");
          assertTrue(
              figures.stream()
                  .map(f -> (List<?>) f)
                  .anyMatch(
                      f ->
                          ((Number) f.get(0)).doubleValue() < 100
                              && ((Number) f.get(1)).doubleValue() > 0),
              "rows were loaded while the file was still going up: " + figures);
          assertTrue(
              figures.stream()
                  .map(f -> (List<?>) f)
                  .anyMatch(
                      f -> {
                        double up = ((Number) f.get(0)).doubleValue();
                        return up > 0 && up < 100;
                      }),
              "the upload figure moved: " + figures);

          // the task's row shows both too
          assertTrue(row.find(".transfer").isDisplayed(), "the uploaded line of the row");
          assertEquals(String.valueOf(size), row.element().getDomAttribute("data-uploaded"));
          assertEquals(
              "100", row.find("progress.upload-bar").getDomProperty("value").replace(".0", ""));
          String uploaded = row.text(".uploaded");
          assertTrue(uploaded.matches("([0-9.]+ MB) of \\1"), uploaded);
          assertTrue(row.text(".loaded").endsWith("MB"), row.text(".loaded"));
          assertEquals(0, p.rememberedUploads(), "a finished upload is forgotten");

          assertLoadedAsPsqlDoes(file, "web_tus");
        });
  }

  @Test
  void aReloadMidUploadContinuesWhenTheSameFileIsChosenAgain(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Path file = CsvFiles.mixed("page-resume.csv", 45_000, 22);
          long size = Files.size(file);
          TaskPage p = open();
          // about 12 s for the whole file: the reload comes in the middle of its one PATCH
          String id = upload(p, file, "web_resume", 250_000).id();
          p.await("a third of the file sent", d -> p.uploadPercent() > 33);
          assertEquals(1, p.rememberedUploads(), "the upload is remembered while it runs");

          // Leaving is warned of (WebDriver accepts that prompt by itself), and the page says
          // that the upload can continue; then the page is reloaded mid-upload.
          assertEquals(Boolean.TRUE, leavingIsWarned(p), "a beforeunload warning while uploading");
          assertTrue(
              p.byId("upload-hint").getText().contains("continues where it stopped"),
              p.byId("upload-hint").getText());
          browser.driver().navigate().refresh();
          browser.unthrottle();
          new TaskPage(browser.driver(), page).open();

          // What arrived stays, and is loaded; then the import waits for the rest.
          String upload = Api.task(id).getString("upload.id");
          long offset =
              Waits.untilValue(
                  Duration.ofSeconds(30),
                  "the service's offset to settle",
                  () -> {
                    long first = offset(upload);
                    Waits.pause(500);
                    return first > 0 && offset(upload) == first ? first : null;
                  });
          assertTrue(offset < size, "part of the file arrived: " + offset + " of " + size);
          TaskPage.Row again = p.awaitRow(id);
          p.await(
              "the row to wait for the upload",
              d -> "true".equals(again.element().getDomAttribute("data-waiting")));
          String note = again.text(".note");
          assertTrue(note.startsWith("Waiting for the upload"), note);
          assertTrue(note.contains("Choose page-resume.csv again"), note);
          assertEquals("Pending", again.text(".state"));
          p.script("arguments[0].scrollIntoView()", again.element());
          browser.screenshot("upload-waiting");

          // The same file chosen again: its table and options come back, the upload goes on.
          p.chooseFile(file);
          assertEquals("web_resume", p.table(), "the remembered upload's table");
          assertTrue(p.importMessage().contains("partly uploaded"), p.importMessage());
          p.submitImport();
          p.await("the upload to finish", d -> p.uploadDone());
          assertEquals(offset, p.uploadResumedFrom(), "continued from the service's offset");
          assertEquals(size - offset, p.uploadSent(), "only the rest was sent");
          again.awaitState("COMPLETED");
          assertEquals(
              1,
              Db.count("SELECT count(*) FROM tsm.task WHERE table_name = 'web_resume'"),
              "one task, continued");
          assertEquals(0, p.rememberedUploads(), "a finished upload is forgotten");
          assertLoadedAsPsqlDoes(file, "web_resume");
        });
  }

  @Test
  void aLostConnectionIsRetriedFromTheServicesOffset(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Path file = CsvFiles.mixed("page-offline.csv", 30_000, 23);
          long size = Files.size(file);
          TaskPage p = open();
          int chunk = 128 * 1024;
          p.chunkSize(chunk);
          TaskPage.Row row = upload(p, file, "web_offline", 250_000);
          p.await("a quarter of the file sent", d -> p.uploadPercent() > 25);
          browser.offline(true);
          p.await(
              "the page to say it retries",
              d -> p.byId("upload-status").getText().contains("trying again"));
          browser.unthrottle();
          p.await("the upload to finish", d -> p.uploadDone());
          // the chunk cut off (and one tried offline) again, not the file from its start
          assertTrue(p.uploadSent() <= size + 2L * chunk, "sent " + p.uploadSent() + " of " + size);
          row.awaitState("COMPLETED");
          assertLoadedAsPsqlDoes(file, "web_offline");
        });
  }

  @Test
  void cancellingTheUploadTerminatesItsImport(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Path file = CsvFiles.mixed("page-cancel.csv", 40_000, 24);
          TaskPage p = open();
          TaskPage.Row row = upload(p, file, "web_cancelled", 250_000);
          String id = row.id();
          String upload = Api.task(id).getString("upload.id");
          p.await("part of the file sent", d -> p.uploadPercent() > 10);

          // dismissed: the upload goes on
          p.cancelUpload();
          Alert question = p.await("the confirmation", ExpectedConditions.alertIsPresent());
          assertTrue(
              question.getText().startsWith("Cancel the upload of page-cancel.csv?"),
              question.getText());
          question.dismiss();
          assertTrue(p.byId("import-cancel").isDisplayed(), "still uploading");
          assertEquals(1, p.rememberedUploads());

          // accepted: the upload and its import are terminated, nothing stays
          p.cancelUpload();
          p.await("the confirmation", ExpectedConditions.alertIsPresent()).accept();
          row.awaitState("TERMINATED");
          p.await("the message", d -> p.importMessage().startsWith("Upload cancelled"));
          assertTrue(
              p.importMessage().contains("import into public.web_cancelled was terminated"),
              p.importMessage());
          assertFalse(p.byId("import-cancel").isDisplayed(), "nothing left to cancel");
          assertEquals(0, p.rememberedUploads(), "a cancelled upload is forgotten");
          assertEquals(410, head(upload).statusCode());
          assertFalse(
              Db.tableExists("public.web_cancelled"), "a terminated import leaves no table");
          assertNotNull(Api.task(id).getString("finishedAt"));
          assertEquals(Boolean.FALSE, leavingIsWarned(p), "no warning once nothing is uploading");
        });
  }

  /** Starts importing the file into the table through the page, sent at bytesPerSecond. */
  private static TaskPage.Row upload(TaskPage p, Path file, String table, long bytesPerSecond) {
    browser.throttleUploads(bytesPerSecond);
    p.chooseFile(file);
    p.table(table);
    p.submitImport();
    return p.awaitRow("IMPORT", "public." + table);
  }

  private static void assertLoadedAsPsqlDoes(Path file, String table) {
    Db.copyReference("ref_" + table, "public." + table, file, ", HEADER true");
    Db.assertSameRows("ref_" + table, "public." + table);
  }

  /** Records both figures of the upload area each time one changes: [uploaded %, loaded %]. */
  private static void recordFigures(TaskPage p) {
    p.script(
        "window.__figures = [];"
            + "const up = document.getElementById('upload-progress');"
            + "const load = document.getElementById('load-progress');"
            + "new MutationObserver(() => window.__figures.push([up.value, load.value]))"
            + ".observe(document.getElementById('upload'), {subtree: true, attributes: true,"
            + " attributeFilter: ['value']});");
  }

  /** Whether the page's beforeunload handler asks to stay. */
  private static Object leavingIsWarned(TaskPage p) {
    return p.script(
        "const e = new Event('beforeunload', {cancelable: true});"
            + " window.dispatchEvent(e); return e.defaultPrevented;");
  }

  private static Response head(String upload) {
    return Auth.given().header("Tus-Resumable", "1.0.0").head("/uploads/" + upload);
  }

  private static long offset(String upload) {
    Response r = head(upload);
    assertEquals(200, r.statusCode(), "HEAD /uploads/" + upload);
    return Long.parseLong(r.header("Upload-Offset"));
  }
}
