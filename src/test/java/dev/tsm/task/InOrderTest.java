package dev.tsm.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Waits;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.helpers.test.AssertSubscriber;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The ordered pipeline both jobs run: writes side by side, commits in their order, never more in
 * flight than asked, a failure stopping every batch after it.
 */
class InOrderTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** A batch of {@code rows} rows that takes {@code millis} to copy. */
  private record Batch(int index, int rows, int millis) {}

  @Test
  void batchesCopiedSideBySideCommitInTheirOrder() {
    Random random = new Random(3);
    List<Batch> batches = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      batches.add(new Batch(i, 1 + random.nextInt(100), random.nextInt(30)));
    }
    List<Integer> commits = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostInFlight = new AtomicInteger();
    AssertSubscriber<Committed> run =
        InOrder.commit(
                Multi.createFrom().iterable(batches),
                new Checkpoint(0, 0, 0, 1, null),
                3,
                Duration.ZERO,
                (Batch b,
                    java.util.concurrent.CompletableFuture<Checkpoint> before,
                    RunStop stop) -> {
                  mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                  Waits.pause(b.millis()); // the copy's duration, side by side with the others
                  Checkpoint previous = InOrder.committedBefore(before);
                  commits.add(b.index());
                  inFlight.decrementAndGet();
                  return committedAfter(previous, b);
                })
            .subscribe()
            .withSubscriber(AssertSubscriber.create(Long.MAX_VALUE));
    run.awaitCompletion(WAIT);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      order.add(i);
    }
    assertEquals(order, commits, "committed in their order");
    long total = batches.stream().mapToLong(Batch::rows).sum();
    List<Committed> items = run.getItems();
    assertEquals(total, items.get(items.size() - 1).checkpoint().rowsDone(), "rows add up");
    assertTrue(mostInFlight.get() <= 3, "at most 3 in flight: " + mostInFlight.get());
    assertTrue(mostInFlight.get() > 1, "side by side: " + mostInFlight.get());
  }

  @Test
  void aResumedRunsFirstBatchIsWrittenAloneAndTheOthersSideBySideAfterIt() {
    for (boolean resumed : new boolean[] {false, true}) {
      List<Batch> batches = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        batches.add(new Batch(i, 10, i == 0 ? 200 : 20));
      }
      AtomicLong firstEnded = new AtomicLong(Long.MAX_VALUE);
      AtomicLong otherStarted = new AtomicLong(Long.MAX_VALUE); // the earliest
      AtomicInteger inFlight = new AtomicInteger();
      AtomicInteger mostInFlight = new AtomicInteger();
      Checkpoint start =
          resumed ? new Checkpoint(500, 0, 40_000, 501, null) : new Checkpoint(0, 0, 0, 1, null);
      AssertSubscriber<Committed> run =
          InOrder.commit(
                  Multi.createFrom().iterable(batches),
                  start,
                  3,
                  Duration.ZERO,
                  (Batch b,
                      java.util.concurrent.CompletableFuture<Checkpoint> before,
                      RunStop stop) -> {
                    mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    if (b.index() > 0) {
                      otherStarted.accumulateAndGet(System.nanoTime(), Math::min);
                    }
                    Waits.pause(b.millis());
                    Checkpoint previous = InOrder.committedBefore(before);
                    if (b.index() == 0) {
                      firstEnded.set(System.nanoTime());
                    }
                    inFlight.decrementAndGet();
                    return committedAfter(previous, b);
                  })
              .subscribe()
              .withSubscriber(AssertSubscriber.create(Long.MAX_VALUE));
      run.awaitCompletion(WAIT);
      assertEquals(start.rowsDone() + 120, run.getItems().get(11).checkpoint().rowsDone());
      if (resumed) {
        assertTrue(
            otherStarted.get() >= firstEnded.get(), "no write beside a resumed run's first batch");
        assertTrue(mostInFlight.get() > 1, "side by side after it: " + mostInFlight.get());
      } else {
        assertTrue(
            otherStarted.get() < firstEnded.get(),
            "a run from the start writes others beside its first batch");
      }
    }
  }

  /** The checkpoint of batch {@code b}, committed after {@code previous}. */
  private static Committed committedAfter(Checkpoint previous, Batch b) {
    return new Committed(
        new Checkpoint(previous.rowsDone() + b.rows(), 0, b.index() + 1, 1, null), null);
  }

  @Test
  void aBatchIsPulledOnlyWhenOneEnds() {
    AtomicInteger pulled = new AtomicInteger();
    Multi<Integer> batches =
        Multi.createFrom().range(0, 100).onItem().invoke(i -> pulled.incrementAndGet());
    AssertSubscriber<Committed> run =
        InOrder.commit(
                batches,
                new Checkpoint(0, 0, 0, 1, null),
                2,
                Duration.ZERO,
                (Integer i,
                    java.util.concurrent.CompletableFuture<Checkpoint> before,
                    RunStop stop) -> new Committed(InOrder.committedBefore(before), null))
            .subscribe()
            .withSubscriber(AssertSubscriber.create(0));
    Waits.until(WAIT, "the first two batches pulled", () -> pulled.get() >= 2);
    Waits.holdsFor(
        Duration.ofMillis(100),
        () -> assertEquals(2, pulled.get(), "only as many as may be in flight, before any demand"));
    run.request(5);
    run.awaitItems(5, WAIT);
    Waits.holdsFor(
        Duration.ofMillis(100),
        () -> assertTrue(pulled.get() <= 5 + 2, "pulled " + pulled.get() + " for 5 asked"));
    run.cancel();
  }

  @Test
  void aFailedBatchFailsTheRunAndNothingAfterItCommits() {
    List<Integer> commits = Collections.synchronizedList(new ArrayList<>());
    AssertSubscriber<Committed> run =
        InOrder.commit(
                Multi.createFrom().range(0, 20),
                new Checkpoint(0, 0, 0, 1, null),
                3,
                Duration.ZERO,
                (Integer i,
                    java.util.concurrent.CompletableFuture<Checkpoint> before,
                    RunStop stop) -> {
                  if (i == 7) {
                    // A slow bad batch: later batches are copied meanwhile, and must not commit.
                    Waits.pause(20);
                    throw new IllegalStateException("batch 7 is bad");
                  }
                  Checkpoint previous = InOrder.committedBefore(before);
                  commits.add(i);
                  return new Committed(previous, null);
                })
            .subscribe()
            .withSubscriber(AssertSubscriber.create(Long.MAX_VALUE));
    run.awaitFailure(WAIT);
    assertEquals("batch 7 is bad", run.getFailure().getMessage());
    Waits.holdsFor(
        Duration.ofMillis(200),
        () ->
            assertEquals(
                List.of(0, 1, 2, 3, 4, 5, 6), commits, "the commits before it, no others"));
  }

  @Test
  void cancellingTheRunStopsTheWritesInFlight() {
    List<RunStop> seen = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger gaveUp = new AtomicInteger();
    AssertSubscriber<Committed> run =
        InOrder.commit(
                Multi.createFrom().range(0, 10),
                new Checkpoint(0, 0, 0, 1, null),
                2,
                Duration.ZERO,
                (Integer i,
                    java.util.concurrent.CompletableFuture<Checkpoint> before,
                    RunStop stop) -> {
                  seen.add(stop);
                  // A write far longer than the test: it ends only when its run is stopped.
                  long deadline = System.nanoTime() + WAIT.toNanos();
                  while (!stop.stopped() && System.nanoTime() < deadline) {
                    Waits.pause(5);
                  }
                  gaveUp.incrementAndGet();
                  stop.check();
                  return new Committed(InOrder.committedBefore(before), null);
                })
            .subscribe()
            .withSubscriber(AssertSubscriber.create(Long.MAX_VALUE));
    Waits.until(WAIT, "two writes in flight", () -> seen.size() == 2);
    assertFalse(seen.get(0).stopped(), "not stopped before the cancel");
    run.cancel();
    Waits.until(Duration.ofSeconds(5), "both writes gave up", () -> gaveUp.get() == 2);
    assertTrue(seen.get(0).stopped() && seen.get(1).stopped());
    assertThrows(RunStop.Stopped.class, seen.get(0)::check);
    Waits.holdsFor(
        Duration.ofMillis(200),
        () -> assertEquals(2, seen.size(), "no batch is pulled after the cancel"));
  }
}
