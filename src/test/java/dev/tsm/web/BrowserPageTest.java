package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The page at / in a real browser (Debian's headless Chromium): imports uploaded through the file
 * input and the drop zone with upload progress, live task rows with pause, resume and terminate,
 * exports downloaded from the page, API errors shown as sentences, the polling fallback when
 * Server-Sent Events fail, keyboard use, labels and a phone-sized screen.
 *
 * <p>Tagged "browser" so it can be left out with -DexcludedGroups=browser; a plain {@code ./mvnw
 * verify} (and CI) runs it. A failing test leaves target/browser-screenshots/TEST.png.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
class BrowserPageTest extends BrowserTest {
  private static final List<String> FINAL = List.of("COMPLETED", "FAILED", "TERMINATED");

  @Test
  void uploadPauseResumeComplete(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          // 50,000 rows (3.5 MB, under the test profile's 4 MB body limit): at 250 rows a batch
          // and 50 ms after each, the import runs for seconds, long enough to be paused by a
          // click on a loaded machine (20,000 rows once completed before the click took effect).
          Path file = CsvFiles.mixed("page-import.csv", 50_000, 11);
          TaskPage p = open();
          recordBars(p);
          p.chooseFile(file);
          assertTrue(p.chosenFile().contains("page-import.csv"), p.chosenFile());
          assertEquals("page_import", p.table(), "a table name suggested by the file name");
          p.table("web_sales");
          p.submitImport();

          // the upload's own progress, then the task it created
          p.await("the upload to finish", d -> p.uploadDone());
          assertEquals(100.0, p.uploadPercent());
          assertTrue(p.uploadEvents() >= 1, "upload progress events: " + p.uploadEvents());
          assertTrue(
              p.byId("upload-percent").getText().startsWith("100 %"),
              p.byId("upload-percent").getText());
          TaskPage.Row row = p.awaitRow("IMPORT", "public.web_sales");
          String id = row.id();
          assertTrue(
              p.importMessage().contains("into public.web_sales started"), p.importMessage());
          assertEquals(
              "Pause import into public.web_sales", row.button("pause").getAccessibleName());

          // pause at the first sign of progress (the bar moving is checked over the whole run)
          p.await(
              "the task's progress bar to start",
              d -> {
                String state = row.state();
                if (FINAL.contains(state) || "PAUSED".equals(state)) {
                  throw new AssertionError("the task was " + state + " before it was paused");
                }
                return "RUNNING".equals(state) && row.bar() > 0;
              });
          assertFalse(row.enabled("resume"), "resume while running");
          assertTrue(row.enabled("terminate"), "terminate while running");
          row.click("pause");
          row.awaitState("PAUSED");
          assertFalse(row.enabled("pause"), "pause while paused");
          assertTrue(row.enabled("resume"), "resume while paused");
          assertTrue(row.enabled("terminate"), "terminate while paused");
          assertEquals("Paused", row.text(".state"));

          // a paused task's bar stands still
          double frozen = row.bar();
          long rows = row.rowsDone();
          assertTrue(frozen > 0 && frozen < 100, "paused at " + frozen + " %");
          Waits.holdsFor(
              Duration.ofMillis(1500),
              () -> {
                assertEquals(frozen, row.bar(), "the bar of a paused task");
                assertEquals(rows, row.rowsDone(), "rows of a paused task");
              });
          assertEquals(rows, Api.task(id).getLong("rowsDone"), "the page shows the task's rows");

          row.click("resume");
          row.awaitState("COMPLETED");
          assertEquals(100.0, row.bar());
          List<Double> running = bars(p, id, "RUNNING");
          assertTrue(
              running.stream().filter(v -> v > 0 && v < 100).distinct().count() >= 2,
              "the bar moved while running: " + running);
          assertTrue(
              running.stream().anyMatch(v -> v > frozen && v < 100),
              "the bar moved on after the resume: " + running);
          for (int i = 1; i < running.size(); i++) {
            assertTrue(running.get(i) >= running.get(i - 1), "the bar never goes back: " + running);
          }
          assertEquals("50,000", row.text(".rows"));
          assertTrue(
              row.text(".eta").matches("done in \\d+ s|done in \\d+ min \\d+ s"), row.text(".eta"));
          assertTrue(row.text(".speed").endsWith("rows/s on average"), row.text(".speed"));
          for (String button : List.of("pause", "resume", "terminate")) {
            assertFalse(row.enabled(button), button + " of a completed task");
          }
          assertFalse(row.find("a.download").isDisplayed(), "an import has no download");
          assertEquals(50_000, Db.count("SELECT count(*) FROM public.web_sales"));
        });
  }

  @Test
  void terminateAsksFirst(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          // all but the last 4 KiB of the file sent through a resumable upload (its import is
          // planned from the first megabyte): the import loads what arrived and waits for the
          // rest, so it has not ended when the page terminates it (an import of a whole file
          // could complete between the two clicks on a loaded machine)
          byte[] csv = Files.readAllBytes(CsvFiles.mixed("page-doomed.csv", 30_000, 12));
          String id =
              Api.startImportOfPartialUpload(
                  "web_doomed", Arrays.copyOf(csv, csv.length - 4096), csv.length);
          assertTrue(Api.awaitRows(id, 1).getLong("rowsDone") > 0, "rows loaded before the end");
          TaskPage p = open();
          TaskPage.Row row = p.awaitRow(id);

          // dismissed: nothing happens
          row.click("terminate");
          Alert question = p.await("the confirmation", ExpectedConditions.alertIsPresent());
          assertTrue(
              question.getText().startsWith("Terminate the import into public.web_doomed?"),
              question.getText());
          question.dismiss();
          assertEquals(0, requests(p, "/tasks/" + id + "/terminate"), "terminate requests");
          assertNotEquals("TERMINATED", row.state());
          assertEquals("", row.requestedState());

          // accepted: the task ends TERMINATED and leaves no table
          row.click("terminate");
          p.await("the confirmation", ExpectedConditions.alertIsPresent()).accept();
          row.awaitState("TERMINATED");
          assertEquals(1, requests(p, "/tasks/" + id + "/terminate"), "terminate requests");
          assertEquals("Terminated", row.text(".state"));
          for (String button : List.of("pause", "resume", "terminate")) {
            assertFalse(row.enabled(button), button + " of a terminated task");
          }
          assertEquals("TERMINATED", Api.state(id));
          assertFalse(Db.tableExists("public.web_doomed"), "a terminated import leaves no table");
        });
  }

  @Test
  void exportAndDownload(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Db.execute("DROP TABLE IF EXISTS public.web_export");
          Db.execute(
              "CREATE TABLE public.web_export (id integer PRIMARY KEY, name text, amount numeric,"
                  + " at timestamp, ok boolean)");
          Db.execute(
              "INSERT INTO public.web_export SELECT i, CASE i % 5 WHEN 0 THEN 'a, \"quoted\" one'"
                  + " WHEN 1 THEN E'two\\nlines' WHEN 2 THEN NULL WHEN 3 THEN '' ELSE 'Zoë 東京'"
                  + " END, i * 1.25, timestamp '2024-01-01' + i * interval '1 minute', i % 2 = 0"
                  + " FROM generate_series(1, 3000) i");
          Db.execute("ANALYZE public.web_export");
          TaskPage p = open();
          p.awaitTable("public.web_export");
          p.export("public.web_export");
          assertTrue(
              p.byId("export-table-hint").getText().contains("id (integer)"),
              p.byId("export-table-hint").getText());

          TaskPage.Row row = p.awaitRow("EXPORT", "public.web_export");
          row.awaitState("COMPLETED");
          WebElement link = row.find("a.download");
          p.await("the download link", d -> link.isDisplayed());
          assertEquals("web_export.csv", link.getDomAttribute("download"));
          assertEquals("Download CSV of the export of public.web_export", link.getAccessibleName());
          String href = link.getDomProperty("href");
          assertTrue(href.endsWith("/tasks/" + row.id() + "/file"), href);
          p.await("the export message", d -> p.exportMessage().contains("is ready"));

          HttpResponse<String> download =
              HttpClient.newBuilder()
                  .version(HttpClient.Version.HTTP_1_1)
                  .build()
                  .send(
                      HttpRequest.newBuilder(URI.create(href))
                          .header("Authorization", Auth.bearer(Auth.ALICE))
                          .timeout(Duration.ofSeconds(60))
                          .GET()
                          .build(),
                      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
          assertEquals(200, download.statusCode());
          assertEquals(
              "attachment; filename=\"web_export.csv\"",
              download.headers().firstValue("Content-Disposition").orElse(null),
              "the link's name is the saved file's");
          assertTrue(p.exportMessage().contains("download web_export.csv"), p.exportMessage());
          String reference =
              Db.psql(
                  "\\copy (SELECT * FROM public.web_export ORDER BY id) TO STDOUT WITH (FORMAT"
                      + " csv, HEADER)");
          assertEquals(reference, download.body(), "the downloaded file");
        });
  }

  @Test
  void apiErrorsAreSentences(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          Db.execute("DROP TABLE IF EXISTS public.web_taken");
          Db.execute("CREATE TABLE public.web_taken (id integer, name text)");
          Path file = CsvFiles.write("page-taken.csv", "id,name\n1,Ada\n2,Grace\n");
          Response api =
              given()
                  .contentType("text/csv")
                  .queryParam("table", "web_taken")
                  .body(file.toFile())
                  .post("/imports");
          assertEquals(409, api.statusCode());
          String detail = api.jsonPath().getString("detail");

          TaskPage p = open();
          // nothing to upload: said by the page itself
          p.submitImport();
          p.await("the missing-file message", d -> p.importMessage().contains("Choose a CSV"));

          p.chooseFile(file);
          p.table("web_taken");
          p.submitImport();
          String shown = p.awaitImportError();
          assertReadable(shown);
          // in the page's words: its choice, not the API's parameter
          String words =
              detail.replace("use mode=append", "choose \"Append to an existing table\"");
          assertTrue(
              shown.toLowerCase(Locale.ROOT).contains(words.toLowerCase(Locale.ROOT)),
              "the 409 detail '" + words + "' in: " + shown);

          // a 400 (bad name) and a 404 (append to a missing table) read as sentences too
          p.chooseFile(file);
          p.table("bad name; drop table x");
          p.submitImport();
          p.await("the 400 message", d -> p.importMessage().contains("not a valid table name"));
          assertReadable(p.importMessage());

          p.chooseFile(file);
          p.table("web_missing");
          p.mode("append");
          p.submitImport();
          p.await("the 404 message", d -> p.importMessage().contains("web_missing"));
          assertReadable(p.importMessage());
          assertTrue(
              p.importMessage().contains("choose \"Create a new table\""), p.importMessage());
          assertFalse(Db.tableExists("public.web_missing"));

          // 413: refused before a byte goes up (the upload declares its length)
          p.mode("create");
          p.chooseFile(CsvFiles.mixed("page-too-big.csv", 70_000, 15));
          p.table("web_too_big");
          p.submitImport();
          p.await("the 413 message", d -> p.importMessage().contains("over the limit"));
          assertReadable(p.importMessage());
        });
  }

  @Test
  void failedImportShowsItsErrorAndRejects(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          StringBuilder csv = new StringBuilder("id,name\n");
          for (int i = 1; i <= 3000; i++) {
            csv.append(i).append(",n").append(i).append('\n');
          }
          csv.append("3001\n");
          for (int i = 3002; i <= 3010; i++) {
            csv.append(i).append(",n").append(i).append('\n');
          }
          Path file = CsvFiles.write("page-broken.csv", csv.toString());
          TaskPage p = open();
          p.chooseFile(file);
          p.table("web_broken");
          p.submitImport();
          TaskPage.Row row = p.awaitRow("IMPORT", "public.web_broken");
          row.awaitState("FAILED");
          String error = Api.task(row.id()).getString("error");
          WebElement shown = row.find("p.error");
          assertTrue(shown.isDisplayed(), "the error of a failed task");
          assertTrue(
              shown.getText().toLowerCase(Locale.ROOT).contains(firstWords(error)),
              "'" + error + "' in: " + shown.getText());
          WebElement rejects = row.find("a.rejects");
          assertTrue(rejects.isDisplayed(), "the rejects link of a failed import");
          assertTrue(
              rejects.getDomProperty("href").endsWith("/tasks/" + row.id() + "/rejects"),
              rejects.getDomProperty("href"));
          assertFalse(row.enabled("pause"), "pause of a failed task");
          assertTrue(row.enabled("resume"), "resume of a failed task");
          assertTrue(row.enabled("terminate"), "terminate of a failed task");
          given().get(URI.create(rejects.getDomProperty("href")).getPath()).then().statusCode(200);

          row.click("terminate");
          p.await("the confirmation", ExpectedConditions.alertIsPresent()).accept();
          row.awaitState("TERMINATED");
          // a terminated card says why it ended
          String reason = row.find("p.error").getText();
          assertTrue(reason.startsWith("Terminated "), reason);
        });
  }

  @Test
  void liveUpdatesComeFromServerSentEvents(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          TaskPage p = open();
          p.await("the event stream to open", d -> "live".equals(p.liveMode()));
          long listsBefore = taskListRequests(p);

          // a task started elsewhere appears and is followed without polling
          String id =
              Api.startImport("web_elsewhere", CsvFiles.mixed("page-elsewhere.csv", 5_000, 13));
          TaskPage.Row row = p.awaitRow(id);
          row.awaitState("COMPLETED");
          assertEquals(100.0, row.bar());
          assertEquals("live", p.liveMode());
          assertTrue(
              taskListRequests(p) - listsBefore <= 1,
              "GET /tasks while live: " + (taskListRequests(p) - listsBefore));
        });
  }

  @Test
  void anotherUsersPageDoesNotShowTheTask(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          String alices =
              Api.startImport("web_alices", CsvFiles.mixed("page-alices.csv", 2_000, 17));
          Api.awaitState(alices, "COMPLETED");
          // Bob signs in on the same browser (his session replaces alice's) and watches live.
          TaskPage bob = new TaskPage(browser.driver(), page).open(Auth.BOB);
          bob.await("the event stream to open", d -> "live".equals(bob.liveMode()));
          String bobs =
              Auth.as(Auth.BOB)
                  .contentType("text/csv")
                  .body(CsvFiles.mixed("page-bobs.csv", 2_000, 19).toFile())
                  .post("/imports?table=web_bobs")
                  .jsonPath()
                  .getString("id");
          bob.awaitRow(bobs).awaitState("COMPLETED");
          assertTrue(
              browser
                  .driver()
                  .findElements(
                      org.openqa.selenium.By.cssSelector("li.task[data-task-id='" + alices + "']"))
                  .isEmpty(),
              "bob's page lists none of alice's tasks");
          // Signed in as alice again, her task is there and bob's is not.
          TaskPage alice = new TaskPage(browser.driver(), page).open(Auth.ALICE);
          alice.awaitRow(alices);
          assertTrue(
              browser
                  .driver()
                  .findElements(
                      org.openqa.selenium.By.cssSelector("li.task[data-task-id='" + bobs + "']"))
                  .isEmpty(),
              "alice's page lists none of bob's tasks");
        });
  }

  @Test
  void fallsBackToPollingWhenEventsFail(TestInfo info) throws Exception {
    String script =
        "window.__sseTries = 0;"
            + "window.EventSource = class extends EventTarget {"
            + "  constructor(url) { super(); this.url = url; this.readyState = 0;"
            + "    window.__sseTries++;"
            + "    let n = 0; this.timer = setInterval(() => {"
            + "      if (this.readyState === 2) { clearInterval(this.timer); return; }"
            + "      this.dispatchEvent(new Event('error'));"
            + "      if (++n >= 5) clearInterval(this.timer); }, 30); }"
            + "  close() { this.readyState = 2; }"
            + "};"
            + "window.EventSource.CONNECTING = 0; window.EventSource.OPEN = 1;"
            + " window.EventSource.CLOSED = 2;";
    String injected = browser.beforeEachPage(script);
    try {
      browser.recordingFailures(
          name(info),
          () -> {
            TaskPage p = open();
            p.await("polling", d -> "polling".equals(p.liveMode()));
            assertEquals(1L, ((Number) p.script("return window.__sseTries")).longValue());
            assertTrue(p.byId("live").getText().contains("refreshing every 2 seconds"));

            String id = Api.startImport("web_polled", CsvFiles.mixed("page-polled.csv", 5_000, 14));
            TaskPage.Row row = p.awaitRow(id);
            row.awaitState("COMPLETED");
            assertEquals(100.0, row.bar());
            assertTrue(taskListRequests(p) >= 2, "GET /tasks while polling");
          });
    } finally {
      browser.removeBeforeEachPage(injected);
    }
  }

  @Test
  void dropZoneKeyboardLabelsAndPhoneScreen(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          TaskPage p = open();

          // a file dropped on the zone is chosen, and Enter in the form starts the import
          p.script(
              "const file = new File(['id,name\\n1,Ada\\n2,Grace\\n3,Edsger\\n'], 'Dropped"
                  + " Names.csv', {type: 'text/csv'});"
                  + "const data = new DataTransfer(); data.items.add(file);"
                  + "const zone = document.getElementById('drop-zone');"
                  + "for (const type of ['dragenter', 'dragover', 'drop']) {"
                  + "  zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true,"
                  + " cancelable: true})); }");
          assertTrue(p.chosenFile().contains("Dropped Names.csv"), p.chosenFile());
          assertEquals("dropped_names", p.table());
          p.byId("import-table").sendKeys(Keys.ENTER);
          TaskPage.Row row = p.awaitRow("IMPORT", "public.dropped_names");
          row.awaitState("COMPLETED");
          assertEquals(3, Db.count("SELECT count(*) FROM public.dropped_names"));

          // the file input (the drop zone's own input) is reached with Tab
          p.open();
          p.script("document.activeElement.blur(); window.scrollTo(0, 0);");
          boolean reached = false;
          for (int i = 0; i < 5 && !reached; i++) {
            new Actions(browser.driver()).sendKeys(Keys.TAB).perform();
            reached = "import-file".equals(p.script("return document.activeElement.id"));
          }
          assertTrue(reached, "Tab reaches the file input");

          // every control has a label, every button a name; messages are live regions
          @SuppressWarnings("unchecked")
          List<String> unlabelled =
              (List<String>)
                  p.script(
                      "return [...document.querySelectorAll('input, select, textarea')]"
                          + ".filter(e => e.type !== 'hidden' && e.labels.length === 0"
                          + " && !e.getAttribute('aria-label')).map(e => e.outerHTML);");
          assertEquals(List.of(), unlabelled, "controls without a label");
          @SuppressWarnings("unchecked")
          List<String> nameless =
              (List<String>)
                  p.script(
                      "return [...document.querySelectorAll('button, a[href]')]"
                          + ".filter(e => !(e.getAttribute('aria-label') || e.textContent).trim())"
                          + ".map(e => e.outerHTML);");
          assertEquals(List.of(), nameless, "buttons and links without a name");
          for (String region : List.of("import-message", "export-message", "tasks-message")) {
            assertEquals("polite", p.byId(region).getDomAttribute("aria-live"), region);
          }
          assertEquals("en", p.script("return document.documentElement.lang"));
          assertTrue(
              String.valueOf(
                      p.script("return document.querySelector('meta[name=viewport]').content"))
                  .contains("width=device-width"));

          // a phone-sized screen: nothing wider than the screen
          Dimension desktop = browser.driver().manage().window().getSize();
          try {
            browser.driver().manage().window().setSize(new Dimension(390, 844));
            p.open();
            p.await("a task row", d -> !d.findElements(By.cssSelector("li.task")).isEmpty());
            Map<?, ?> widths =
                (Map<?, ?>)
                    p.script(
                        "return {page: document.documentElement.scrollWidth,"
                            + " screen: document.documentElement.clientWidth}");
            long pageWidth = ((Number) widths.get("page")).longValue();
            long screen = ((Number) widths.get("screen")).longValue();
            assertTrue(
                pageWidth <= screen, "page " + pageWidth + " px on a " + screen + " px screen");
            browser.screenshot("phone");
          } finally {
            browser.driver().manage().window().setSize(desktop);
          }
        });
  }

  /** Records every value the task rows' bars take, with the state shown at the time. */
  private static void recordBars(TaskPage p) {
    p.script(
        "window.__bars = {};"
            + "new MutationObserver(changes => { for (const c of changes) {"
            + "  const row = c.target; if (!row.dataset || !row.dataset.taskId) continue;"
            + "  (window.__bars[row.dataset.taskId] ||= [])"
            + "    .push([row.dataset.state, Number(row.dataset.percent)]); } })"
            + ".observe(document.getElementById('tasks'), {subtree: true, attributes: true,"
            + " attributeFilter: ['data-percent', 'data-state']});");
  }

  /** The bar values recorded for a task while it was shown in the state. */
  private static List<Double> bars(TaskPage p, String id, String state) {
    List<?> records = (List<?>) p.script("return window.__bars[arguments[0]] || []", id);
    List<Double> values = new ArrayList<>();
    for (Object record : records) {
      List<?> pair = (List<?>) record;
      if (state.equals(pair.get(0))) {
        values.add(((Number) pair.get(1)).doubleValue());
      }
    }
    return values;
  }

  /** The page's own requests for the task list so far. */
  private static long taskListRequests(TaskPage p) {
    return requests(p, "/tasks");
  }

  /** How many requests the page made to the path so far. */
  private static long requests(TaskPage p, String path) {
    return ((Number)
            p.script(
                "return performance.getEntriesByType('resource')"
                    + ".filter(e => new URL(e.name).pathname === arguments[0]).length",
                path))
        .longValue();
  }

  /** A message for people: words, no JSON. */
  private static void assertReadable(String message) {
    assertTrue(message.startsWith("Error: "), message);
    assertFalse(message.contains("{"), "raw JSON in: " + message);
    assertFalse(message.contains("\"status\""), "raw JSON in: " + message);
    assertFalse(message.contains("about:blank"), "raw JSON in: " + message);
  }

  private static String firstWords(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    return lower.length() > 30 ? lower.substring(0, 30) : lower;
  }
}
