package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.TaskPage;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The task list when it grows: filtered by state, kind and table, shown a page at a time, finished
 * tasks cleared away; a completed import's columns and an export's options and file size on the
 * page; the API's documentation a click away.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
@Tag("browser")
class BrowserTaskListTest extends BrowserTest {

  @Test
  void aLongListIsFilteredPagedAndCleared(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          // 45 tasks of alice: 42 completed imports, 3 failed ones
          for (int i = 0; i < 45; i++) {
            String csv = i % 15 == 7 ? "a,b\n1,2\n3\n" : "a,b\n" + i + ",x\n";
            String id = Api.startImport("web_list_" + i, CsvFiles.write("list.csv", csv));
            Api.awaitState(id, "COMPLETED", "FAILED");
          }
          TaskPage p = open();
          p.awaitRow("IMPORT", "public.web_list_44");
          p.await("the first page", d -> shown(p) == 20);
          long all = Api.listSize();
          WebElement more = p.byId("tasks-more");
          while (more.isDisplayed()) {
            int before = shown(p);
            more.click();
            p.await("more tasks", d -> shown(p) > before || !more.isDisplayed());
          }
          assertEquals(all, shown(p), "every task, page after page");

          new Select(p.byId("filter-state")).selectByValue("FAILED");
          p.await("failed ones only", d -> visible(p).stream().allMatch(r -> is(r, "FAILED")));
          assertTrue(visible(p).size() >= 3, "the 3 failed imports");
          new Select(p.byId("filter-state")).selectByValue("");
          p.byId("filter-text").sendKeys("web_list_4");
          p.await(
                  "web_list_4 and web_list_40..44",
                  d -> visible(p).stream().map(r -> r.getDomAttribute("data-table")).toList())
              .containsAll(List.of("public.web_list_4", "public.web_list_44"));
          assertEquals(6, visible(p).size(), "web_list_4, web_list_40 to 44");
          p.byId("filter-text").clear();
          p.script("document.getElementById('filter-text').dispatchEvent(new Event('input'))");
          new Select(p.byId("filter-kind")).selectByValue("EXPORT");
          p.await(
              "exports only",
              d ->
                  visible(p).stream()
                      .allMatch(r -> "EXPORT".equals(r.getDomAttribute("data-kind"))));
          new Select(p.byId("filter-kind")).selectByValue("");

          // cleared: only the failed (unfinished) ones stay
          p.byId("tasks-clear").click();
          p.await(
              "finished ones cleared", d -> visible(p).stream().noneMatch(r -> is(r, "COMPLETED")));
          assertTrue(p.byId("tasks-show-cleared").getText().matches("Show [0-9,]+ cleared tasks"));
          browser.screenshot("list-cleared");
          p.byId("tasks-show-cleared").click();
          p.await("cleared ones back", d -> visible(p).stream().anyMatch(r -> is(r, "COMPLETED")));
        });
  }

  @Test
  void theListPagesAfterATask() {
    for (int i = 0; i < 4; i++) {
      Api.awaitState(
          Api.startImport("web_page_" + i, CsvFiles.write("page.csv", "a\n" + i + "\n")),
          "COMPLETED");
    }
    List<String> all = Auth.given().get("/tasks?limit=1000").jsonPath().getList("id");
    List<String> first = Auth.given().get("/tasks?limit=2").jsonPath().getList("id");
    List<String> next =
        Auth.given().get("/tasks?limit=2&before=" + first.get(1)).jsonPath().getList("id");
    assertEquals(all.subList(0, 2), first);
    assertEquals(all.subList(2, 4), next, "the two after the second");
    List<String> exports =
        Auth.given().get("/tasks?kind=export&before=" + all.get(0)).jsonPath().getList("kind");
    assertTrue(exports.stream().allMatch("EXPORT"::equals), exports.toString());
    dev.tsm.support.Problems.assertProblem(
        Auth.given().get("/tasks?before=42"), 400, "not a task id");
  }

  @Test
  void theApiDocumentationIsAClickAway(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          TaskPage p = open();
          p.byId("api-docs").click();
          p.await(
              "Swagger UI with the service's operations",
              d -> !d.findElements(By.cssSelector(".opblock-tag")).isEmpty());
          assertTrue(browser.driver().getPageSource().contains("Task State Manager"), "its title");
        });
  }

  @Test
  void anImportShowsItsColumnsAndAnExportItsOptionsAndSize(TestInfo info) throws Exception {
    browser.recordingFailures(
        name(info),
        () -> {
          String id =
              Api.startImport(
                  "web_columns",
                  CsvFiles.write("columns.csv", "id,name,price\n1,Ada,2.5\n2,Bo,3\n"));
          Api.awaitState(id, "COMPLETED");
          TaskPage p = open();
          TaskPage.Row row = p.awaitRow(id);
          p.await("the columns", d -> row.find(".columns-of").isDisplayed());
          assertEquals(
              "Columns of public.web_columns: id (integer), name (text), price (numeric)",
              row.text(".columns-of"));

          p.awaitTable("public.web_columns");
          new Select(p.byId("export-table")).selectByValue("public.web_columns");
          p.byId("export-options").findElement(By.tagName("summary")).click();
          p.byId("export-columns").findElement(By.cssSelector("input[value='price']")).click();
          new Select(p.byId("export-delimiter")).selectByValue(";");
          p.byId("export-header").click();
          p.byId("export-submit").click();
          TaskPage.Row export = p.awaitRow("EXPORT", "public.web_columns").awaitState("COMPLETED");

          Response file = Auth.given().get("/tasks/" + export.id() + "/file");
          assertEquals("1;Ada\n2;Bo\n", file.asString(), "two columns, ';', no header");
          long size = file.asByteArray().length;
          p.await("the file's size", d -> export.text(".meta").contains("file " + size + " bytes"));
        });
  }

  private static int shown(TaskPage p) {
    return visible(p).size();
  }

  private static List<WebElement> visible(TaskPage p) {
    return p.driver().findElements(By.cssSelector("#tasks > li.task:not([hidden])"));
  }

  private static boolean is(WebElement row, String state) {
    return state.equals(row.getDomAttribute("data-state"));
  }
}
