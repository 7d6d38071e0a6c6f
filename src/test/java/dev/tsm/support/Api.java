package dev.tsm.support;

import static dev.tsm.support.Auth.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** The service's HTTP API, as a client uses it. */
public final class Api {
  private Api() {}

  /**
   * A request to the management interface (health, metrics): its own port, which the Kubernetes
   * Service does not expose; in tests {@code quarkus.management.test-port}.
   */
  public static io.restassured.specification.RequestSpecification management() {
    int port =
        org.eclipse.microprofile.config.ConfigProvider.getConfig()
            .getOptionalValue("quarkus.management.test-port", Integer.class)
            .orElse(9001);
    return io.restassured.RestAssured.given().baseUri("http://localhost").port(port);
  }

  /** Starts an import of {@code file}; returns the task id. */
  public static String startImport(String table, Path file, Map<String, ?> params) {
    Response r =
        given()
            .contentType("text/csv")
            .queryParam("table", table)
            .queryParams(params)
            .body(file.toFile())
            .post("/imports");
    if (r.statusCode() != 202) {
      throw new AssertionError(
          "import of " + file + " answered " + r.statusCode() + ": " + r.asString());
    }
    return r.jsonPath().getString("id");
  }

  public static String startImport(String table, Path file) {
    return startImport(table, file, Map.of());
  }

  /**
   * Starts an import fed by a resumable (tus) upload of {@code length} bytes and sends only {@code
   * sent} of them: the task cannot complete before the test ends it. It is planned, and loads what
   * arrived, once a megabyte is here; with less it waits for its plan. Returns the task id.
   */
  public static String startImportOfPartialUpload(String table, byte[] sent, long length) {
    Tus.Created up = Tus.create(table, length, null);
    if (sent.length > 0) {
      Response patched = Tus.patch(up.location(), 0, sent);
      assertEquals(204, patched.statusCode(), patched.asString());
    }
    return up.taskId();
  }

  /** How many tasks the caller has (up to 1000). */
  public static int listSize() {
    return given()
        .get("/tasks?limit=1000")
        .then()
        .statusCode(200)
        .extract()
        .jsonPath()
        .getList("id")
        .size();
  }

  public static JsonPath task(String id) {
    return given().get("/tasks/" + id).then().statusCode(200).extract().jsonPath();
  }

  public static String state(String id) {
    return task(id).getString("state");
  }

  public static Response command(String id, String command) {
    return given().post("/tasks/" + id + "/" + command);
  }

  /** Waits until the task is in one of the states; returns it. */
  public static JsonPath awaitState(String id, Duration atMost, String... states) {
    AtomicReference<JsonPath> last = new AtomicReference<>();
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              last.set(task(id));
              return Arrays.asList(states).contains(last.get().getString("state"));
            });
    return last.get();
  }

  public static JsonPath awaitState(String id, String... states) {
    return awaitState(id, Duration.ofSeconds(120), states);
  }

  /**
   * Checks throughout {@code period} that the task stays PAUSED at {@code rowsDone} rows, and that
   * {@code also} holds of it: a paused task does not move.
   */
  public static void assertStaysPaused(
      String id, long rowsDone, Duration period, Consumer<JsonPath> also) {
    Waits.holdsFor(
        period,
        () -> {
          JsonPath now = task(id);
          assertEquals("PAUSED", now.getString("state"), "a paused task stays PAUSED");
          assertEquals(rowsDone, now.getLong("rowsDone"), "a paused task does not move");
          also.accept(now);
        });
  }

  /**
   * Pauses the task once it has done at least {@code rows} rows; returns it PAUSED. Null if it
   * completed first (or was no longer RUNNING when it reached them).
   */
  public static JsonPath pauseAt(String id, long rows) {
    JsonPath reached = awaitRows(id, rows);
    if (!"RUNNING".equals(reached.getString("state"))) {
      return null;
    }
    Response pause = command(id, "pause");
    if (pause.statusCode() == 409 && "COMPLETED".equals(state(id))) {
      return null;
    }
    assertEquals(202, pause.statusCode(), pause.asString());
    JsonPath paused = awaitState(id, "PAUSED", "COMPLETED", "FAILED");
    if ("COMPLETED".equals(paused.getString("state"))) {
      return null;
    }
    assertEquals("PAUSED", paused.getString("state"), paused.prettify());
    return paused;
  }

  /** Waits until the task has done at least {@code rows} rows (or ended). */
  public static JsonPath awaitRows(String id, long rows) {
    AtomicReference<JsonPath> last = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(5))
        .until(
            () -> {
              last.set(task(id));
              String s = last.get().getString("state");
              return last.get().getLong("rowsDone") >= rows
                  || !"RUNNING".equals(s) && !"PENDING".equals(s);
            });
    return last.get();
  }
}
