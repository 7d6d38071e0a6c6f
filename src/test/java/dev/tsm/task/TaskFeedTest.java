package dev.tsm.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Tasks;
import io.smallrye.mutiny.helpers.test.AssertSubscriber;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A feed spaces its sends by the share of the event budget it is given, and loses no change. */
class TaskFeedTest {
  private static final Duration NO_HEARTBEAT = Duration.ofHours(1);

  @Test
  void changesWaitForTheGapAndGoOutTogether() throws InterruptedException {
    AtomicLong gap = new AtomicLong(Duration.ofMillis(300).toNanos());
    TaskFeed feed = new TaskFeed(task -> true, f -> {}, gap::get);
    Task a = Tasks.running(null);
    Task b = Tasks.running(null);

    feed.offer(a);
    assertTrue(feed.drain(NO_HEARTBEAT).isEmpty(), "the stream just opened with the current state");
    Thread.sleep(350);
    feed.offer(b);
    assertEquals(List.of(a, b), feed.drain(NO_HEARTBEAT), "after the gap, everything pending");

    feed.offer(a);
    assertTrue(feed.drain(NO_HEARTBEAT).isEmpty(), "too soon after the last send");
    gap.set(0); // the other streams closed: the budget is this stream's alone
    assertEquals(List.of(a), feed.drain(NO_HEARTBEAT), "nothing waits once the gap is gone");
  }

  @Test
  void aFilteredOutTaskNeverGoesOutAndSilenceBringsAHeartbeat() throws InterruptedException {
    TaskFeed feed = new TaskFeed(task -> false, f -> {}, () -> 0);
    feed.offer(Tasks.running(null));
    Thread.sleep(20);
    List<Task> sent = feed.drain(Duration.ofMillis(10));
    assertEquals(1, sent.size());
    assertTrue(sent.get(0) == TaskFeed.HEARTBEAT, "only a heartbeat: " + sent);
  }

  @Test
  void aTickSendsOnlyWhatTheSubscriberAskedForAndNothingIsLostMeanwhile() {
    AtomicInteger closed = new AtomicInteger();
    TaskFeed feed = new TaskFeed(task -> true, f -> closed.incrementAndGet(), () -> 0);
    Task a = Tasks.running(null);
    Task b = Tasks.running(null);
    AssertSubscriber<List<Task>> subscriber =
        feed.changes(NO_HEARTBEAT).subscribe().withSubscriber(AssertSubscriber.create(0));

    feed.offer(a);
    feed.tick();
    assertEquals(List.of(), subscriber.getItems(), "no demand: the tick sends nothing");
    feed.offer(b);
    subscriber.request(1);
    feed.tick();
    assertEquals(List.of(List.of(a, b)), subscriber.getItems(), "what waited, in one list");
    feed.tick();
    assertEquals(1, subscriber.getItems().size(), "nothing new, nothing sent");

    subscriber.cancel();
    assertEquals(1, closed.get(), "a cancelled stream closes its feed");
    feed.offer(a);
    feed.tick(); // after the cancel: a no-op
    assertEquals(1, subscriber.getItems().size());
  }
}
