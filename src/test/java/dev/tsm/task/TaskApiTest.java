package dev.tsm.task;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.Problems;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The task API: listing and its filters, the transitions a task refuses, queueing beyond the
 * runner's limit (2 here), and the service's own endpoints (OpenAPI, health, Swagger UI).
 */
@QuarkusTest
@TestProfile(TaskApiTest.TwoRunners.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class TaskApiTest {
  private static final String PROBLEM = Problems.MEDIA_TYPE;

  /** At most two tasks run at once. */
  public static class TwoRunners implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tsm.runner.max-concurrent-tasks", "2");
    }
  }

  @Test
  void listIsNewestFirstAndFilters() {
    List<String> done = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Path file = CsvFiles.mixed("list-" + i + ".csv", 50, i);
      done.add(Api.startImport("list_" + i, file));
    }
    for (String id : done) {
      assertEquals("COMPLETED", Api.awaitState(id, "COMPLETED", "FAILED").getString("state"));
    }
    String paused = Api.startImport("list_paused", CsvFiles.mixed("list-paused.csv", 40_000, 9));
    assertEquals(202, Api.command(paused, "pause").statusCode());
    Api.awaitState(paused, "PAUSED");

    List<Map<String, Object>> all = list("");
    List<String> ids = ids(all);
    assertEquals(
        List.of(paused, done.get(2), done.get(1), done.get(0)),
        ids.subList(0, 4),
        "newest first: " + ids);
    for (int i = 1; i < all.size(); i++) {
      OffsetDateTime newer = OffsetDateTime.parse((String) all.get(i - 1).get("createdAt"));
      OffsetDateTime older = OffsetDateTime.parse((String) all.get(i).get("createdAt"));
      assertFalse(older.isAfter(newer), "createdAt descending at " + i);
    }

    List<Map<String, Object>> completed = list("?state=COMPLETED");
    assertAll(completed, "state", "COMPLETED");
    assertTrue(ids(completed).containsAll(done), ids(completed).toString());
    assertFalse(ids(completed).contains(paused));

    List<Map<String, Object>> pausedOnly = list("?state=paused");
    assertAll(pausedOnly, "state", "PAUSED");
    assertTrue(ids(pausedOnly).contains(paused));
    assertFalse(ids(pausedOnly).stream().anyMatch(done::contains));

    List<Map<String, Object>> imports = list("?kind=IMPORT");
    assertAll(imports, "kind", "IMPORT");
    assertTrue(ids(imports).containsAll(done) && ids(imports).contains(paused));
    List<Map<String, Object>> exports = list("?kind=export");
    assertAll(exports, "kind", "EXPORT");
    assertFalse(ids(exports).contains(paused));

    List<Map<String, Object>> both = list("?state=COMPLETED&kind=IMPORT");
    assertAll(both, "state", "COMPLETED");
    assertAll(both, "kind", "IMPORT");
    assertTrue(ids(both).containsAll(done));

    List<Map<String, Object>> two = list("?limit=2");
    assertEquals(ids.subList(0, 2), ids(two), "limit keeps the newest");

    assertProblem(given().get("/tasks?state=bogus"), 400, "state", "bogus");
    assertProblem(given().get("/tasks?kind=bogus"), 400, "kind", "bogus");
    assertProblem(given().get("/tasks?limit=0"), 400, "limit");
    assertProblem(given().get("/tasks?limit=1001"), 400, "limit");
    assertProblem(given().get("/tasks?limit=abc"), 400, "limit", "abc");

    Api.command(paused, "terminate").then().statusCode(202);
    Api.awaitState(paused, "TERMINATED");
  }

  @Test
  void impossibleTransitionsAre409WithTheState() {
    String completed = Api.startImport("tr_completed", CsvFiles.mixed("tr-completed.csv", 100, 3));
    Api.awaitState(completed, "COMPLETED");
    assertRefused(completed, "resume", "COMPLETED", "resumed");
    assertRefused(completed, "pause", "COMPLETED", "paused");
    assertRefused(completed, "terminate", "COMPLETED", "terminated");

    String paused = Api.startImport("tr_paused", CsvFiles.mixed("tr-paused.csv", 40_000, 4));
    Api.command(paused, "pause").then().statusCode(202);
    Api.awaitState(paused, "PAUSED");
    assertRefused(paused, "pause", "PAUSED", "paused");
    assertEquals("PAUSED", Api.state(paused), "a refused command changes nothing");

    Api.command(paused, "terminate").then().statusCode(202);
    Api.awaitState(paused, "TERMINATED");
    assertRefused(paused, "terminate", "TERMINATED", "terminated");
    assertRefused(paused, "resume", "TERMINATED", "resumed");
    assertRefused(paused, "pause", "TERMINATED", "paused");
    assertFalse(Db.tableExists("public.tr_paused"));
  }

  @Test
  void pendingTaskPausesAtOnceAndIsNotRunUntilResumed() {
    // Two long imports fill both slots; the third waits.
    String first = Api.startImport("pend_long_1", CsvFiles.mixed("pend-long-1.csv", 40_000, 21));
    String second = Api.startImport("pend_long_2", CsvFiles.mixed("pend-long-2.csv", 40_000, 22));
    Path file = CsvFiles.mixed("pend-waiting.csv", 2_000, 23);
    String waiting = Api.startImport("pend_waiting", file);
    assertEquals("PENDING", Api.state(waiting), "both slots are taken");

    Response pause = Api.command(waiting, "pause");
    assertEquals(202, pause.statusCode(), pause.asString());
    assertEquals("PAUSED", pause.jsonPath().getString("state"), "a PENDING task pauses at once");
    assertNull(pause.jsonPath().getString("requestedState"));
    assertProblem(Api.command(waiting, "pause"), 409, "PAUSED");

    Api.awaitState(first, "COMPLETED");
    Api.awaitState(second, "COMPLETED");
    // Several runner polls with free slots: a paused task is not claimed.
    Api.assertStaysPaused(waiting, 0, Duration.ofMillis(800), task -> {});

    Response resume = Api.command(waiting, "resume");
    assertEquals(202, resume.statusCode(), resume.asString());
    Api.awaitState(waiting, "COMPLETED");
    Db.copyReference("ref_pend_waiting", "public.pend_waiting", file, ", HEADER true");
    Db.assertSameRows("ref_pend_waiting", "public.pend_waiting");
  }

  @Test
  void importsBeyondTheRunnerLimitQueueAndAllComplete() throws Exception {
    int count = 4;
    List<String> ids = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      files.add(CsvFiles.mixed("queue-" + i + ".csv", 10_000, 100 + i));
    }
    AtomicBoolean watching = new AtomicBoolean(true);
    AtomicInteger mostRunning = new AtomicInteger();
    AtomicBoolean sawQueue = new AtomicBoolean();
    AtomicReference<String> overLimit = new AtomicReference<>();
    CompletableFuture<Void> watcher =
        CompletableFuture.runAsync(
            () -> {
              while (watching.get()) {
                // One request, one SQL statement: a consistent picture of all tasks.
                List<Map<String, Object>> tasks = list("?kind=IMPORT&limit=1000");
                long running = tasks.stream().filter(t -> "RUNNING".equals(t.get("state"))).count();
                long pending = tasks.stream().filter(t -> "PENDING".equals(t.get("state"))).count();
                mostRunning.accumulateAndGet((int) running, Math::max);
                if (running > 2) {
                  overLimit.compareAndSet(null, tasks.toString());
                }
                if (running == 2 && pending >= 1) {
                  sawQueue.set(true);
                }
                Waits.pause(5); // the watcher's spacing, not a wait for anything
              }
            });
    try {
      for (int i = 0; i < count; i++) {
        ids.add(Api.startImport("queue_" + (i + 1), files.get(i)));
      }
      for (String id : ids) {
        JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
        assertEquals("COMPLETED", done.getString("state"), done.prettify());
        assertEquals(10_000, done.getLong("rowsDone"));
      }
    } finally {
      watching.set(false);
      watcher.get(30, TimeUnit.SECONDS);
    }
    assertNull(overLimit.get(), "more than 2 RUNNING at once: " + overLimit.get());
    assertEquals(2, mostRunning.get(), "both slots were used");
    assertTrue(sawQueue.get(), "seen: 2 RUNNING while others were PENDING");
    for (int i = 1; i <= count; i++) {
      Db.copyReference("ref_queue_" + i, "public.queue_" + i, files.get(i - 1), ", HEADER true");
      Db.assertSameRows("ref_queue_" + i, "public.queue_" + i);
    }
    assertTrue(Db.stagingTables().isEmpty(), "no staging table left: " + Db.stagingTables());
  }

  @Test
  void openApiDescribesTheEndpointsAndTheirErrors() {
    Response json = given().get("/q/openapi?format=json");
    assertEquals(200, json.statusCode());
    JsonObject paths = new JsonObject(json.asString()).getJsonObject("paths");
    assertNotNull(paths);
    assertResponses(paths, "/imports", "post", "202", "400", "404", "409", "413");
    assertResponses(paths, "/tasks", "get", "200", "400");
    assertResponses(paths, "/tasks/{id}", "get", "200", "400", "404");
    for (String command : List.of("pause", "resume", "terminate")) {
      assertResponses(paths, "/tasks/{id}/" + command, "post", "202", "400", "404", "409");
    }
    assertResponses(paths, "/tasks/{id}/rejects", "get", "200", "404");
    JsonObject conflict =
        paths
            .getJsonObject("/tasks/{id}/pause")
            .getJsonObject("post")
            .getJsonObject("responses")
            .getJsonObject("409");
    assertTrue(
        conflict.getJsonObject("content").containsKey(PROBLEM), "409 is problem+json: " + conflict);

    Response yaml = given().accept("application/yaml").get("/q/openapi");
    assertEquals(200, yaml.statusCode());
    assertTrue(yaml.contentType().contains("yaml"), yaml.contentType());
    String text = yaml.asString();
    for (String expected : List.of("/imports:", "/tasks/{id}/pause:", "/tasks/{id}/terminate:")) {
      assertTrue(text.contains(expected), "the YAML lists " + expected);
    }
    for (String status : List.of("404", "409", "413")) {
      assertTrue(
          text.matches("(?s).*[\"']" + status + "[\"']:.*"), "the YAML lists status " + status);
    }
  }

  @Test
  void healthAndSwaggerUi() {
    for (String check : List.of("/q/health/ready", "/q/health/live", "/q/health")) {
      Response r = Api.management().get(check);
      assertEquals(200, r.statusCode(), check + ": " + r.asString());
      assertEquals("UP", r.jsonPath().getString("status"), check);
    }
    JsonPath live = Api.management().get("/q/health/live").jsonPath();
    assertTrue(live.getList("checks.name").contains("task-runner"), live.prettify());
    Response ui = given().get("/q/swagger-ui");
    assertEquals(200, ui.statusCode());
    assertTrue(ui.asString().toLowerCase(Locale.ROOT).contains("swagger"));
    Response uiSlash = given().get("/q/swagger-ui/");
    assertEquals(200, uiSlash.statusCode());
  }

  // ---- Helpers ---------------------------------------------------------------------------------

  private static void assertRefused(String id, String command, String state, String verb) {
    JsonPath p = assertProblem(Api.command(id, command), 409, state, "cannot be " + verb);
    assertEquals(state, p.getString("state"), "the problem names the current state");
    assertEquals("/tasks/" + id + "/" + command, p.getString("instance"));
  }

  private static void assertResponses(
      JsonObject paths, String path, String method, String... statuses) {
    JsonObject item = paths.getJsonObject(path);
    assertNotNull(item, "OpenAPI lists " + path + ": " + paths.fieldNames());
    JsonObject operation = item.getJsonObject(method);
    assertNotNull(operation, method + " " + path);
    JsonObject responses = operation.getJsonObject("responses");
    for (String status : statuses) {
      assertTrue(
          responses.containsKey(status),
          method + " " + path + " documents " + status + ": " + responses.fieldNames());
    }
  }

  private static List<Map<String, Object>> list(String query) {
    Response r = given().get("/tasks" + query);
    assertEquals(200, r.statusCode(), r.asString());
    List<Map<String, Object>> tasks = new ArrayList<>();
    JsonArray array = new JsonArray(r.asString());
    for (int i = 0; i < array.size(); i++) {
      tasks.add(array.getJsonObject(i).getMap());
    }
    return tasks;
  }

  private static List<String> ids(List<Map<String, Object>> tasks) {
    return tasks.stream().map(t -> (String) t.get("id")).toList();
  }

  private static void assertAll(List<Map<String, Object>> tasks, String field, String value) {
    for (Map<String, Object> t : tasks) {
      assertEquals(value, t.get(field), field + " of " + t.get("id"));
    }
  }
}
