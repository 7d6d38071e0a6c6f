package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.CallbackReceiver;
import dev.tsm.support.CallbackReceiver.Received;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.ItFixture;
import dev.tsm.support.ServiceProcess;
import dev.tsm.support.TaskTable;
import dev.tsm.support.Waits;
import io.restassured.path.json.JsonPath;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A completion callback survives the death of the instance delivering it: a receiver (a real HTTP
 * server in the test) first fails an attempt, then holds the next one unanswered while the service
 * is killed -9; two replicas started after it deliver the same signed body, once, and the task
 * shows the delivery's history.
 */
class CallbackCrashIT {
  private static final String SECRET = "it-callback-secret";
  private static final Duration WAIT = Duration.ofSeconds(90);

  @RegisterExtension static final ItFixture it = new ItFixture("CallbackCrashIT");

  /** Signed, to a receiver on localhost, an attempt's limit of 3 s (so a lease of 11 s). */
  private static Map<String, String> env() {
    return it.db()
        .serviceEnv(
            "TSM_CALLBACK_SECRET", SECRET,
            "TSM_CALLBACK_ALLOW_INTERNAL_ADDRESSES", "true",
            "TSM_CALLBACK_TIMEOUT", "3s",
            "TSM_CALLBACK_BACKOFF_BASE", "200ms",
            "TSM_CALLBACK_BACKOFF_MAX", "1s",
            "TSM_CALLBACK_POLL_INTERVAL", "1s");
  }

  @Test
  void aDeliveryCutByAKillIsMadeByAReplicaAfterTheRestart() {
    TaskTable tasks = it.tasks();
    CallbackReceiver receiver = new CallbackReceiver(0, SECRET);
    try {
      receiver.answers.add(503);
      String id;
      long killedAt;
      try (ServiceProcess first = ServiceProcess.startReady("callback-crash", env())) {
        id =
            first.startImport(
                "cb_crash",
                CsvFiles.mixed("cb-crash.csv", 2_000, 5),
                Map.of("callback", receiver.url()));
        tasks.awaitState(id, WAIT, "COMPLETED");
        Waits.until(WAIT, "a first attempt answered 503", () -> !receiver.of(id).isEmpty());
        receiver.stall();
        Waits.until(WAIT, "a second attempt, held unanswered", () -> receiver.of(id).size() >= 2);
        JsonPath during = first.json("/tasks/" + id);
        assertEquals("pending", during.getString("callback.deliveries[0].status"));
        assertEquals(2, during.getInt("callback.deliveries[0].attempts"));
        assertEquals(503, during.getInt("callback.deliveries[0].lastStatus"));
        first.kill();
        killedAt = System.nanoTime();
        System.out.printf("[CallbackCrashIT] killed -9 while it delivered %s%n", id);
      }
      receiver.release(); // the held request is dropped; from now on the receiver answers 200

      ServiceProcess a = ServiceProcess.start("callback-crash-a", env());
      ServiceProcess b = ServiceProcess.start("callback-crash-b", env());
      try (a;
          b) {
        a.awaitReady(WAIT);
        b.awaitReady(WAIT);
        JsonPath task =
            Waits.untilValue(
                WAIT,
                "the callback of " + id + " delivered",
                () -> {
                  JsonPath t = a.json("/tasks/" + id);
                  return "delivered".equals(t.getString("callback.deliveries[0].status"))
                      ? t
                      : null;
                });
        System.out.printf(
            "[CallbackCrashIT] delivered by a replica %d ms after the kill%n",
            (System.nanoTime() - killedAt) / 1_000_000);
        assertEquals(receiver.url(), task.getString("callback.url"));
        assertEquals("COMPLETED", task.getString("callback.deliveries[0].state"));
        assertEquals(3, task.getInt("callback.deliveries[0].attempts"), task.prettify());
        assertEquals(200, task.getInt("callback.deliveries[0].lastStatus"));
        assertNotNull(task.getString("callback.deliveries[0].deliveredAt"));
        assertEquals(task.getString("callback"), b.json("/tasks/" + id).getString("callback"));

        Waits.pause(3_000); // longer than a poll on each replica: nothing more comes
        List<Received> got = receiver.of(id);
        System.out.printf(
            "[CallbackCrashIT] the receiver got %s%n",
            got.stream().map(Received::answered).toList());
        assertEquals(List.of(503, 0, 200), got.stream().map(Received::answered).toList());
        assertEquals(1, got.stream().map(Received::delivery).distinct().count(), "one delivery");
        assertEquals(1, got.stream().map(Received::body).distinct().count(), "the same bytes");
        assertTrue(got.stream().allMatch(receiver::signedCorrectly), "every attempt signed");
        assertTrue(got.stream().allMatch(r -> "task.COMPLETED".equals(r.event())), "event header");
        JsonObject body = new JsonObject(got.get(2).body());
        assertEquals(id, body.getString("id"));
        assertEquals("COMPLETED", body.getString("state"));
        assertEquals(2_000L, body.getLong("rowsDone"));
      }
    } finally {
      receiver.stop();
    }
  }
}
