package dev.tsm.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Tasks;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.mutiny.Multi;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** How a run's pipeline stops: at the first checkpoint that says so, at its end, or failing. */
class RunTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final TaskMetrics metrics = new TaskMetrics(new SimpleMeterRegistry());

  @Test
  void stopsAtTheFirstCheckpointThatReadsBackAStopAndPullsNoMore() {
    AtomicInteger pulled = new AtomicInteger();
    Job job = job(i -> i == 3 ? TaskState.PAUSED : null, 10, pulled);
    Run.Stop stop =
        new Run(Tasks.running(null), "me/1").pipeline(job, metrics).await().atMost(WAIT);
    assertEquals(new Run.Stop.Asked(TaskState.PAUSED), stop);
    assertEquals(4, pulled.get(), "batches 0-3 committed, none read after the stop");
  }

  @Test
  void aStopOfThisInstanceTakesEffectAtTheNextCheckpoint() {
    Run run = new Run(Tasks.running(null), "me/1");
    AtomicInteger pulled = new AtomicInteger();
    Job job =
        job(
            i -> {
              if (i == 2) {
                run.stopAt(TaskState.PENDING); // shutdown, while batch 2 commits
              }
              return null;
            },
            10,
            pulled);
    assertEquals(
        new Run.Stop.Asked(TaskState.PENDING), run.pipeline(job, metrics).await().atMost(WAIT));
    assertEquals(3, pulled.get());
  }

  @Test
  void aStopAskedByAClientTakesEffectAtOnceAndCancelsTheBatchInFlight() {
    Run run = new Run(Tasks.running(null), "me/1");
    AtomicBoolean cancelled = new AtomicBoolean();
    // One batch committed, then a batch that never ends: only a stop that does not wait for the
    // next checkpoint can end this run.
    Job job =
        new TestJob(
            (task, owner) ->
                Multi.createBy()
                    .concatenating()
                    .streams(
                        Multi.createFrom().item(committed(0, null)),
                        Multi.createFrom()
                            .<Committed>nothing()
                            .onCancellation()
                            .invoke(() -> cancelled.set(true))));
    io.smallrye.mutiny.Uni<Run.Stop> pipeline = run.pipeline(job, metrics).memoize().indefinitely();
    pipeline.subscribe().with(stop -> {}, failure -> {});
    run.stopNow(TaskState.PAUSED);
    assertEquals(new Run.Stop.Asked(TaskState.PAUSED), pipeline.await().atMost(WAIT));
    assertTrue(cancelled.get(), "the batch in flight was cancelled");
  }

  @Test
  void theEndOfTheDataIsDone() {
    Run.Stop stop =
        new Run(Tasks.running(null), "me/1")
            .pipeline(job(i -> null, 5, new AtomicInteger()), metrics)
            .await()
            .atMost(WAIT);
    assertInstanceOf(Run.Stop.DataDone.class, stop);
  }

  @Test
  void aFailedBatchEndsTheRunWithItsFailure() {
    Job job =
        new TestJob(
            (task, owner) ->
                Multi.createFrom()
                    .range(0, 5)
                    .map(
                        i -> {
                          if (i == 2) {
                            throw new IllegalStateException("batch 2 broke");
                          }
                          return committed(i, null);
                        }));
    Run.Stop stop =
        new Run(Tasks.running(null), "me/1").pipeline(job, metrics).await().atMost(WAIT);
    assertEquals("batch 2 broke", ((Run.Stop.Failed) stop).failure().getMessage());
  }

  @Test
  void aStopAskedBeforeTheRunIsActedOnWithoutReadingAnything() {
    AtomicBoolean subscribed = new AtomicBoolean();
    Job job =
        new TestJob(
            (task, owner) ->
                Multi.createFrom()
                    .<Committed>empty()
                    .onSubscription()
                    .invoke(() -> subscribed.set(true)));
    Run.Stop stop =
        new Run(Tasks.running(TaskState.TERMINATED), "me/1")
            .pipeline(job, metrics)
            .await()
            .atMost(WAIT);
    assertEquals(new Run.Stop.Asked(TaskState.TERMINATED), stop);
    assertFalse(subscribed.get(), "the job never ran");
  }

  /** A job of {@code batches} committed batches, the i-th reading back {@code asked(i)}. */
  private static Job job(IntFunction<TaskState> asked, int batches, AtomicInteger pulled) {
    return new TestJob(
        (task, owner) ->
            Multi.createFrom()
                .range(0, batches)
                .onItem()
                .invoke(i -> pulled.incrementAndGet())
                .map(i -> committed(i, asked.apply(i))));
  }

  private static Committed committed(int i, TaskState asked) {
    return new Committed(new Checkpoint((i + 1) * 10L, 0, (i + 1) * 100L, 1, null), asked);
  }

  /** A job whose pipeline the test gives; it publishes and undoes nothing. */
  private record TestJob(java.util.function.BiFunction<Task, String, Multi<Committed>> pipeline)
      implements Job {
    @Override
    public TaskKind kind() {
      return TaskKind.IMPORT;
    }

    @Override
    public Multi<Committed> run(Task task, String owner) {
      return pipeline.apply(task, owner);
    }

    @Override
    public void publish(Connection c, Task task) {}

    @Override
    public void discard(Connection c, Task task) {}

    @Override
    public void cleanFiles(Task task, TaskState state) {}
  }
}
