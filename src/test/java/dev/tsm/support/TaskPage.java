package dev.tsm.support;

import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The service's page, as a person uses it: what the tests click, type and read. */
public final class TaskPage {
  public static final Duration TIMEOUT = Duration.ofSeconds(90);

  private final WebDriver driver;
  private final URL url;

  public TaskPage(WebDriver driver, URL url) {
    this.driver = driver;
    this.url = url;
  }

  public WebDriver driver() {
    return driver;
  }

  /**
   * Signs in as alice through the sign-in link (as a person does with the link printed at start),
   * which leads to the page; waits until it has its tasks, its tables and a live connection.
   */
  public TaskPage open() {
    return open(Auth.ALICE);
  }

  /** The same, signed in with {@code key}. */
  public TaskPage open(String key) {
    driver.get(url.toString().replaceAll("/$", "") + "/signin?key=" + key);
    await(
        "the page to start (live updates or polling, tables loaded)",
        d ->
            List.of("live", "polling").contains(liveMode())
                && byId("export-table").getDomAttribute("data-loaded") != null);
    return this;
  }

  /** live (Server-Sent Events), polling, reconnecting or connecting. */
  public String liveMode() {
    return byId("live").getDomAttribute("data-mode");
  }

  public WebElement byId(String id) {
    return driver.findElement(By.id(id));
  }

  public Object script(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  public <T> T await(String what, Function<WebDriver, T> condition) {
    return await(what, TIMEOUT, condition);
  }

  public <T> T await(String what, Duration timeout, Function<WebDriver, T> condition) {
    WebDriverWait wait = new WebDriverWait(driver, timeout, Duration.ofMillis(50));
    wait.withMessage(() -> "waiting for " + what);
    return wait.until(condition);
  }

  // ---- Import ---------------------------------------------------------------------------------

  /** Picks a file with the file input, as a person does with the file dialog. */
  public void chooseFile(Path file) {
    byId("import-file").sendKeys(file.toAbsolutePath().toString());
  }

  public String chosenFile() {
    return byId("file-name").getText();
  }

  public String table() {
    return byId("import-table").getDomProperty("value");
  }

  public void table(String name) {
    WebElement input = byId("import-table");
    input.clear();
    input.sendKeys(name);
  }

  public void mode(String mode) {
    driver.findElement(By.cssSelector("input[name='mode'][value='" + mode + "']")).click();
  }

  /** Waits for the preview of the chosen file; returns its column rows (name, type, reason). */
  public List<List<String>> awaitPreview() {
    await("the preview", d -> !byId("preview").isDisplayed() ? null : previewRows().size() > 0);
    return previewRows();
  }

  private List<List<String>> previewRows() {
    return driver.findElements(By.cssSelector("#preview-columns tbody tr")).stream()
        .map(
            tr ->
                List.of(
                    tr.findElement(By.cssSelector(".preview-name")).getDomProperty("value"),
                    tr.findElement(By.cssSelector(".preview-type")).getDomProperty("value"),
                    tr.findElements(By.tagName("td")).get(3).getText()))
        .toList();
  }

  /** Types into the preview's name ({@code field} "name") or type ("type") of a column. */
  public void previewChange(int column, String field, String value) {
    WebElement input =
        driver.findElement(By.cssSelector(".preview-" + field + "[data-column='" + column + "']"));
    input.clear();
    input.sendKeys(value);
  }

  /** The preview's problems, as shown. */
  public List<String> previewProblems() {
    return driver.findElements(By.cssSelector("#preview-problems li")).stream()
        .map(WebElement::getText)
        .toList();
  }

  public void submitImport() {
    byId("import-submit").click();
  }

  public double uploadPercent() {
    return Double.parseDouble(byId("upload-progress").getDomProperty("value"));
  }

  public boolean uploadDone() {
    return "true".equals(byId("upload-progress").getDomAttribute("data-done"));
  }

  public int uploadEvents() {
    return Integer.parseInt(byId("upload-progress").getDomAttribute("data-events"));
  }

  /** The import's progress in the upload area (percent of the file loaded). */
  public double loadPercent() {
    return Double.parseDouble(byId("load-progress").getDomProperty("value"));
  }

  /** Bytes the page put in PATCH bodies for its current (or last) upload. */
  public long uploadSent() {
    return Long.parseLong(byId("upload").getDomAttribute("data-sent"));
  }

  /** The offset the service had when the page continued an earlier upload; null for a new one. */
  public Long uploadResumedFrom() {
    String from = byId("upload").getDomAttribute("data-resumed-from");
    return from == null ? null : Long.valueOf(from);
  }

  /** Sends uploads in PATCHes of this many bytes (the import form's data-chunk-size). */
  public void chunkSize(long bytes) {
    script(
        "document.getElementById('import-form').dataset.chunkSize = String(arguments[0])", bytes);
  }

  /** Unfinished uploads the page remembers (localStorage) to continue them later. */
  public long rememberedUploads() {
    return ((Number)
            script(
                "return Object.keys(localStorage).filter(k => k.startsWith('tsm-upload ')).length"))
        .longValue();
  }

  public void cancelUpload() {
    byId("import-cancel").click();
  }

  public String importMessage() {
    return byId("import-message").getText();
  }

  /** The import form's message once it is an error. */
  public String awaitImportError() {
    return await(
        "an error under the import form",
        d ->
            "error".equals(byId("import-message").getDomAttribute("data-kind"))
                ? importMessage()
                : null);
  }

  // ---- Export ---------------------------------------------------------------------------------

  /** Waits until the table is in the export list, reloading the list as a person would. */
  public void awaitTable(String qualified) {
    await(
        "table " + qualified + " in the export list",
        d -> {
          boolean there =
              !driver
                  .findElements(By.cssSelector("#export-table option[value='" + qualified + "']"))
                  .isEmpty();
          if (!there) {
            byId("tables-refresh").click();
          }
          return there;
        });
  }

  public void export(String qualified) {
    new Select(byId("export-table")).selectByValue(qualified);
    byId("export-submit").click();
  }

  public String exportMessage() {
    return byId("export-message").getText();
  }

  // ---- Tasks ----------------------------------------------------------------------------------

  /** The newest row of an IMPORT or EXPORT task of the table, once it is shown. */
  public Row awaitRow(String kind, String table) {
    By by = By.cssSelector("li.task[data-kind='" + kind + "'][data-table='" + table + "']");
    return new Row(await(kind + " task of " + table + " in the list", d -> d.findElement(by)));
  }

  public Row awaitRow(String id) {
    By by = By.cssSelector("li.task[data-task-id='" + id + "']");
    return new Row(await("task " + id + " in the list", d -> d.findElement(by)));
  }

  /** One task's row: its state, progress and buttons. */
  public final class Row {
    private final WebElement el;

    Row(WebElement el) {
      this.el = el;
    }

    public WebElement element() {
      return el;
    }

    public String id() {
      return el.getDomAttribute("data-task-id");
    }

    public String state() {
      return el.getDomAttribute("data-state");
    }

    public String requestedState() {
      return el.getDomAttribute("data-requested-state");
    }

    /** The percent the page shows. */
    public double percent() {
      return Double.parseDouble(el.getDomAttribute("data-percent"));
    }

    /** The value of the row's progress bar. */
    public double bar() {
      return Double.parseDouble(
          el.findElement(By.cssSelector("progress.bar")).getDomProperty("value"));
    }

    public long rowsDone() {
      return Long.parseLong(el.getDomAttribute("data-rows-done"));
    }

    public String text(String css) {
      return el.findElement(By.cssSelector(css)).getText();
    }

    public WebElement find(String css) {
      return el.findElement(By.cssSelector(css));
    }

    public WebElement button(String cls) {
      return el.findElement(By.cssSelector("button." + cls));
    }

    public boolean enabled(String cls) {
      return button(cls).isEnabled();
    }

    public void click(String cls) {
      button(cls).click();
    }

    /** Waits for one of the states; fails at once if the task ends in another. */
    public Row awaitState(String... states) {
      List<String> wanted = Arrays.asList(states);
      // FAILED is an end unless the task is FAILED already (it can be resumed or terminated)
      List<String> ends =
          "FAILED".equals(state())
              ? List.of("COMPLETED", "TERMINATED")
              : List.of("COMPLETED", "FAILED", "TERMINATED");
      await(
          "task " + id() + " to be " + wanted,
          d -> {
            String state = state();
            if (wanted.contains(state)) {
              return true;
            }
            if (ends.contains(state)) {
              throw new AssertionError(
                  "task " + id() + " ended " + state + ", not " + wanted + ": " + el.getText());
            }
            return false;
          });
      return this;
    }
  }
}
