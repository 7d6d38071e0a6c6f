package dev.tsm.task;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Writes how a run ended, fenced on its owner token: completed (the job publishes), terminated (the
 * job undoes), paused or handed back (the task released), failed (released with the reason). A
 * terminate asked meanwhile wins over a pause or a failure. A run that lost its task writes
 * nothing.
 */
@ApplicationScoped
class RunEnds {
  private static final Logger LOG = Logger.getLogger(RunEnds.class);

  private final TaskStore store;
  private final TaskEnds ends;
  private final TaskMetrics metrics;

  RunEnds(TaskStore store, TaskEnds ends, TaskMetrics metrics) {
    this.store = store;
    this.ends = ends;
    this.metrics = metrics;
  }

  /** The end of {@code run} after {@code stop}; logged, never failing. */
  Uni<Run.Result> of(Run run, Run.Stop stop) {
    Uni<Run.Result> end;
    if (stop instanceof Run.Stop.Asked asked) {
      end = asked(run, asked.state());
    } else if (stop instanceof Run.Stop.Failed failed) {
      end = failed(run, failed.failure());
    } else {
      end = completed(run);
    }
    UUID id = run.task.id();
    return end.onFailure()
        .recoverWithUni(e -> unwritten(run, e))
        .invoke(result -> TaskLog.info(LOG, id, "task %s: run ended (%s)", id, words(result)));
  }

  private Uni<Run.Result> completed(Run run) {
    return blocking(() -> ends.complete(run.task, run.owner))
        .map(
            outcome ->
                switch (outcome) {
                  case COMPLETED -> Run.Result.COMPLETED;
                  case TERMINATED -> Run.Result.TERMINATED;
                  case LOST -> lost(run, "its data was all written");
                });
  }

  private Uni<Run.Result> asked(Run run, TaskState state) {
    if (state == TaskState.TERMINATED) {
      return terminate(run, null, "it was terminated");
    }
    return store
        .release(run.task.id(), run.owner, state, null)
        .flatMap(
            task -> {
              if (task == null) {
                // A terminate came in after the pause was seen (it wins), or the task is lost.
                return state == TaskState.PAUSED
                    ? terminate(run, null, "it was paused")
                    : Uni.createFrom().item(lost(run, "it was handed back"));
              }
              if (task.state() == TaskState.PAUSED && task.requestedAt() != null) {
                metrics.paused(Duration.between(task.requestedAt(), task.updatedAt()));
              }
              // PENDING after a pause: a resume withdrew it as the run stopped; the next run goes
              // on from the checkpoint.
              return Uni.createFrom()
                  .item(
                      task.state() == TaskState.PAUSED
                          ? Run.Result.PAUSED
                          : Run.Result.HANDED_BACK);
            });
  }

  private Uni<Run.Result> failed(Run run, Throwable failure) {
    UUID id = run.task.id();
    if (failure instanceof LostTaskException) {
      return Uni.createFrom().item(lost(run, failure.getMessage()));
    }
    if (failure instanceof WaitingForInput waiting) {
      return parked(run, waiting);
    }
    String reason = Failures.describe(failure);
    return store
        .release(id, run.owner, TaskState.FAILED, reason)
        .flatMap(
            released -> {
              if (released == null) {
                // A terminate was asked meanwhile (it wins over the failure), or another run
                // holds the task now and the failure is this stale run's, not the task's.
                return terminate(run, reason, "it failed: " + reason);
              }
              // With its stack unless it is explained: one the service did not expect is found so.
              Throwable stack = Failures.explained(failure) ? null : failure;
              TaskLog.warn(LOG, id, stack, "task %s failed: %s", id, reason);
              return Uni.createFrom().item(Run.Result.FAILED);
            });
  }

  /** Hands the task back to wait for input; a stop asked meanwhile is acted on instead. */
  private Uni<Run.Result> parked(Run run, WaitingForInput waiting) {
    return store
        .park(run.task.id(), run.owner, waiting.readable())
        .flatMap(
            parked -> {
              if (parked != null) {
                return Uni.createFrom().item(Run.Result.HANDED_BACK);
              }
              return store
                  .find(run.task.id())
                  .flatMap(
                      now ->
                          now == null
                                  || now.requestedState() == null
                                  || !run.owner.equals(now.owner())
                              ? Uni.createFrom().item(lost(run, "it waited for its upload"))
                              : asked(run, now.requestedState()));
            });
  }

  /** Terminates the run's task, recording {@code reason} as its error; LOST if it is not its. */
  private Uni<Run.Result> terminate(Run run, String reason, String what) {
    return blocking(() -> ends.terminate(run.task, run.owner, reason))
        .map(done -> done ? Run.Result.TERMINATED : lost(run, what));
  }

  private static Run.Result lost(Run run, String what) {
    TaskLog.warn(
        LOG,
        run.task.id(),
        "task %s: lost to another run (this one is stale: %s); it changes nothing",
        run.task.id(),
        what);
    return Run.Result.LOST;
  }

  /**
   * An end that cannot be written becomes FAILED with the reason; if even that cannot be written
   * (the database is away), the lease runs out and a runner takes the task up again.
   */
  private Uni<Run.Result> unwritten(Run run, Throwable e) {
    UUID id = run.task.id();
    TaskLog.warn(LOG, id, "task %s: could not end the run: %s", id, e.getMessage());
    return store
        .release(id, run.owner, TaskState.FAILED, Failures.describe(e))
        .map(released -> released == null ? Run.Result.LOST : Run.Result.FAILED)
        .onFailure()
        .recoverWithItem(Run.Result.UNRECORDED);
  }

  private static String words(Run.Result result) {
    return result.name().toLowerCase().replace('_', ' ');
  }

  private static <T> Uni<T> blocking(Supplier<T> work) {
    return Uni.createFrom().item(work).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
  }
}
