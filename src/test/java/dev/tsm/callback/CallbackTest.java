package dev.tsm.callback;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CallbackReceiver;
import dev.tsm.support.CallbackReceiver.Received;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Exports;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Completion callbacks against a real HTTP receiver: signed, once per final state, retried after
 * errors, and not lost while the receiver is down (killed mid-delivery, then started again on its
 * port).
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class CallbackTest {
  private static final String SECRET = CallbackReceiver.TEST_SECRET;

  private static final Duration WAIT = Duration.ofSeconds(60);

  private CallbackReceiver receiver;

  @BeforeEach
  void startReceiver() {
    receiver = new CallbackReceiver(0, SECRET);
  }

  @AfterEach
  void stopReceiver() {
    receiver.stop();
  }

  @Test
  void aCompletedImportIsPostedOnceSigned() {
    String id =
        Api.startImport(
            "cb_once", CsvFiles.mixed("cb-once.csv", 300, 1), Map.of("callback", receiver.url()));
    JsonPath done = Api.awaitState(id, "COMPLETED", "FAILED");
    assertEquals("COMPLETED", done.getString("state"));
    JsonPath task = awaitDelivery(id, "delivered");
    assertEquals(receiver.url(), task.getString("callback.url"));
    assertEquals(1, task.getInt("callback.deliveries[0].attempts"));
    assertEquals(200, task.getInt("callback.deliveries[0].lastStatus"));
    assertNotNull(task.getString("callback.deliveries[0].deliveredAt"));
    assertNull(task.get("options.callback"), "the URL is shown apart from the options");

    Waits.pause(1_000); // nothing more comes
    List<Received> got = receiver.of(id);
    assertEquals(1, got.size(), "one delivery: " + got);
    Received r = got.get(0);
    assertTrue(r.signedWith(SECRET), "signature " + r.signature());
    assertEquals("task.COMPLETED", r.event());
    assertNotNull(r.delivery());
    JsonObject body = new JsonObject(r.body());
    assertEquals(id, body.getString("id"));
    assertEquals("COMPLETED", body.getString("state"));
    assertEquals(300L, body.getLong("rowsDone"));
    assertEquals(done.getLong("rowsDone"), body.getLong("rowsDone"));
  }

  @Test
  void aCompletedExportIsPosted() {
    String imported = Api.startImport("cb_export", CsvFiles.mixed("cb-export.csv", 120, 4));
    Api.awaitState(imported, "COMPLETED");
    String id = Exports.start(Map.of("table", "cb_export", "callback", receiver.url()));
    Api.awaitState(id, "COMPLETED");
    awaitDelivery(id, "delivered");
    Received r = receiver.of(id).get(0);
    assertTrue(r.signedWith(SECRET));
    JsonObject body = new JsonObject(r.body());
    assertEquals("EXPORT", body.getString("kind"));
    assertEquals("COMPLETED", body.getString("state"));
    assertEquals(120L, body.getLong("rowsDone"));
  }

  @Test
  void errorsAreRetriedUntilTheReceiverAccepts() {
    receiver.answers.add(500);
    receiver.answers.add(500);
    String id =
        Api.startImport(
            "cb_retry", CsvFiles.mixed("cb-retry.csv", 50, 2), Map.of("callback", receiver.url()));
    Api.awaitState(id, "COMPLETED");
    JsonPath task = awaitDelivery(id, "delivered");
    assertEquals(3, task.getInt("callback.deliveries[0].attempts"));
    List<Received> got = receiver.of(id);
    assertEquals(List.of(500, 500, 200), got.stream().map(Received::answered).toList());
    assertEquals(1, got.stream().map(Received::delivery).distinct().count(), "one delivery id");
    assertEquals(1, got.stream().map(Received::body).distinct().count(), "the same bytes");
    assertTrue(got.stream().allMatch(r -> r.signedWith(SECRET)));
  }

  @Test
  void nothingIsLostWhileTheReceiverIsDown() {
    receiver.dieOnNextRequest.set(true);
    List<String> ids =
        List.of(1, 2, 3).stream()
            .map(
                i ->
                    Api.startImport(
                        "cb_down_" + i,
                        CsvFiles.mixed("cb-down-" + i + ".csv", 40, 10 + i),
                        Map.of("callback", receiver.url())))
            .toList();
    for (String id : ids) {
      Api.awaitState(id, "COMPLETED");
      JsonPath task =
          Waits.untilValue(
              WAIT,
              "a failed attempt of " + id,
              () -> {
                JsonPath t = Api.task(id);
                return t.getString("callback.deliveries[0].lastError") != null ? t : null;
              });
      assertEquals("pending", task.getString("callback.deliveries[0].status"));
    }
    assertTrue(receiver.killed.get(), "the receiver died mid-delivery");

    receiver = new CallbackReceiver(receiver.port, SECRET);
    for (String id : ids) {
      JsonPath task = awaitDelivery(id, "delivered");
      assertTrue(task.getInt("callback.deliveries[0].attempts") >= 2);
      List<Received> got = receiver.of(id);
      assertTrue(!got.isEmpty(), "delivered to the new receiver: " + id);
      assertEquals("COMPLETED", new JsonObject(got.get(0).body()).getString("state"));
    }
  }

  @Test
  void aTerminatedTaskCallsBackTerminated() {
    String id =
        Api.startImport(
            "cb_term",
            CsvFiles.mixed("cb-term.csv", 40_000, 3),
            Map.of("callback", receiver.url()));
    assertEquals(202, Api.command(id, "terminate").statusCode());
    Api.awaitState(id, "TERMINATED");
    JsonPath task = awaitDelivery(id, "delivered");
    assertEquals("TERMINATED", task.getString("callback.deliveries[0].state"));
    Received r = receiver.of(id).get(0);
    assertEquals("task.TERMINATED", r.event());
    assertEquals("TERMINATED", new JsonObject(r.body()).getString("state"));
  }

  @Test
  void aBadCallbackUrlIsRefused() {
    for (String bad : List.of("ftp://example.com/x", "/hooks/tsm", "not a url", longUrl())) {
      assertProblem(
          given()
              .contentType("text/csv")
              .queryParam("table", "cb_bad")
              .queryParam("callback", bad)
              .body("a,b\n1,2\n")
              .post("/imports"),
          400,
          "callback");
    }
    assertProblem(
        given()
            .contentType("application/json")
            .body(new JsonObject().put("table", "cb_bad").put("callback", "mailto:a@b").encode())
            .post("/exports"),
        400,
        "callback");
  }

  private static String longUrl() {
    return "https://example.com/" + "a".repeat(2048);
  }

  private static JsonPath awaitDelivery(String id, String status) {
    return Waits.untilValue(
        WAIT,
        "callback of " + id + " " + status,
        () -> {
          JsonPath t = Api.task(id);
          return status.equals(t.getString("callback.deliveries[0].status")) ? t : null;
        });
  }
}
