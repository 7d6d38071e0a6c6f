package dev.tsm.web;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.TaskPage;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.support.ui.Select;

/**
 * The screenshots of docs/screenshots (shown in the README), taken of the real page at desktop and
 * phone width. Run on demand, as it rewrites files under docs/: {@code ./mvnw verify -DskipITs
 * -Dtest=PageScreenshots -Ddocs.screenshots=true}.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
@EnabledIfSystemProperty(named = "docs.screenshots", matches = "true")
class PageScreenshots extends BrowserTest {
  private static final Path DIR = Path.of("docs", "screenshots");
  private static final Dimension DESKTOP = new Dimension(1280, 1000);
  private static final Dimension PHONE = new Dimension(390, 844);

  @Test
  void theMainStates() throws Exception {
    Files.createDirectories(DIR);
    // a completed import (with its columns) and its export, ready to download
    String imported = Api.startImport("customers", CsvFiles.mixed("customers.csv", 20_000, 41));
    Api.awaitState(imported, "COMPLETED");
    // a failed import: its reason, its rejected row, and the retry that skips it
    String failed =
        Api.startImport("orders", CsvFiles.write("orders.csv", "id,amount\n1,9.50\n2\n3,4.25\n"));
    Api.awaitState(failed, "FAILED");

    for (Dimension size : new Dimension[] {DESKTOP, PHONE}) {
      String width = size == DESKTOP ? "desktop" : "phone";
      browser.driver().manage().window().setSize(size);
      TaskPage p = open();
      p.awaitTable("public.customers");
      new Select(p.byId("export-table")).selectByValue("public.customers");
      p.byId("export-submit").click();
      TaskPage.Row export = p.awaitRow("EXPORT", "public.customers").awaitState("COMPLETED");
      p.script("window.scrollTo(0, 0)");
      shoot(p, "page-" + width);
      p.script("arguments[0].scrollIntoView()", export.element());
      shoot(p, "tasks-" + width);
      p.script("arguments[0].scrollIntoView()", p.awaitRow(failed).element());
      shoot(p, "failed-import-" + width);

      // an import uploading: both bars, Pause at hand
      browser.throttleUploads(300_000);
      p.chooseFile(CsvFiles.mixed("sales.csv", 40_000, 42));
      p.table("sales_" + width);
      p.submitImport();
      TaskPage.Row running = p.awaitRow("IMPORT", "public.sales_" + width);
      p.await("a third uploaded", d -> p.uploadPercent() > 33);
      p.script("document.getElementById('upload').scrollIntoView()");
      shoot(p, "uploading-" + width);
      browser.unthrottle();
      running.awaitState("COMPLETED");
    }
    browser.driver().manage().window().setSize(DESKTOP);
  }

  private static void shoot(TaskPage p, String name) throws Exception {
    Files.write(DIR.resolve(name + ".png"), browser.driver().getScreenshotAs(OutputType.BYTES));
  }
}
