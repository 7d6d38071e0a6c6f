package dev.tsm.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Db;
import dev.tsm.support.Exports;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A watcher of one task hears of each change of that task, committed by anyone (here a plain {@code
 * UPDATE} over another connection, as another replica's would be), through PostgreSQL's notices; of
 * no other task's; and of nothing once it stopped watching.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class TaskEventsTest {
  /** How long a notice may take at most: a bound on the wait, not a speed the test asks for. */
  private static final long NOTICE_SECONDS = 10;

  /** How long the test listens for a notice that must not come. */
  private static final long SILENCE_MILLIS = 500;

  @Inject TaskEvents events;

  @Test
  void aWatcherIsWokenByItsTasksChangesOnlyAndOnlyWhileItWatches() throws Exception {
    Db.execute("CREATE TABLE public.watched_a (id int PRIMARY KEY)");
    Db.execute("INSERT INTO public.watched_a SELECT generate_series(1, 10)");
    String watched = Exports.start(Map.of("table", "watched_a"));
    String other = Exports.start(Map.of("table", "watched_a"));
    Api.awaitState(watched, "COMPLETED");
    Api.awaitState(other, "COMPLETED");

    Semaphore woken = new Semaphore(0);
    Runnable unwatch = events.watch(UUID.fromString(watched), woken::release);
    touch(other);
    assertTrue(
        !woken.tryAcquire(SILENCE_MILLIS, TimeUnit.MILLISECONDS),
        "another task's change wakes nobody watching this one");

    touch(watched);
    assertTrue(
        woken.tryAcquire(NOTICE_SECONDS, TimeUnit.SECONDS),
        "the watched task's change, committed elsewhere, woke its watcher");

    unwatch.run();
    touch(watched);
    assertTrue(
        !woken.tryAcquire(SILENCE_MILLIS, TimeUnit.MILLISECONDS),
        "no wake once the watcher stopped watching");
    assertEquals(0, woken.availablePermits());
  }

  /** A change of the task's row as any writer makes one: its update time moves. */
  private static void touch(String id) {
    Db.execute(
        "UPDATE tsm.task SET updated_at = clock_timestamp() WHERE id = '"
            + UUID.fromString(id)
            + "'");
  }
}
