package dev.tsm.task;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One run of one task on this instance: its job's pipeline from the checkpoint to the first stop,
 * then the end that stop calls for, composed into one {@link Uni} and subscribed once. The pipeline
 * stops at a committed batch whose checkpoint read back a pause or terminate, at a stop of this
 * instance's own (shutdown hands the task back), at the end of the data, or at a failure.
 */
final class Run {
  /** How the pipeline stopped, before anything is written of it. */
  sealed interface Stop {
    /** Every batch is committed. */
    record DataDone() implements Stop {}

    /** Stopped at a checkpoint, as asked: PAUSED, TERMINATED, or PENDING (handed back). */
    record Asked(TaskState state) implements Stop {}

    /** A batch failed; the checkpoint before it holds. */
    record Failed(Throwable failure) implements Stop {}
  }

  /** What the end of the run did. */
  enum Result {
    COMPLETED,
    PAUSED,
    HANDED_BACK,
    TERMINATED,
    FAILED,
    /** Another run holds the task now: this one changed nothing. */
    LOST,
    /** The end could not be written (the database is away): the lease runs out instead. */
    UNRECORDED
  }

  /** How long a run's end waits for its job to let go of its files and locks. */
  private static final Duration SETTLE_WAIT = Duration.ofSeconds(10);

  final Task task;
  final String owner;
  private volatile TaskState localStop;
  private final CompletableFuture<TaskState> stopNow = new CompletableFuture<>();
  private CompletableFuture<Result> ended;

  Run(Task task, String owner) {
    this.task = task;
    this.owner = owner;
  }

  /**
   * Starts the run: the pipeline, then {@code end} of how it stopped. Returns the run's result,
   * complete once its end is written (or could not be).
   */
  CompletableFuture<Result> start(Job job, TaskMetrics metrics, RunEnds end) {
    ended = pipeline(job, metrics).flatMap(stop -> end.of(this, stop)).subscribeAsCompletionStage();
    return ended;
  }

  /** Asks the run to stop at its next checkpoint with {@code state}, on this instance's behalf. */
  void stopAt(TaskState state) {
    localStop = state;
  }

  /**
   * Stops the run at once, as asked by a client (pause, terminate): the batches in flight are
   * cancelled and roll back (their commits are fenced out once the end is written), so the task
   * stays at its last committed checkpoint, and a pause is honoured within milliseconds rather than
   * at the end of the batches in flight.
   */
  void stopNow(TaskState state) {
    stopNow.complete(state);
  }

  CompletableFuture<Result> ended() {
    return ended;
  }

  Uni<Stop> pipeline(Job job, TaskMetrics metrics) {
    if (task.requestedState() != null) {
      // Asked to stop while no runner held it (its owner died): act on it before any batch.
      return Uni.createFrom().item(new Stop.Asked(task.requestedState()));
    }
    AtomicReference<TaskState> asked = new AtomicReference<>();
    AtomicReference<Checkpoint> last = new AtomicReference<>(task.checkpoint());
    Uni<Stop> askedNow =
        Uni.createFrom().completionStage(stopNow).map(state -> (Stop) new Stop.Asked(state));
    Uni<Stop> batches =
        job.run(task, owner)
            .onItem()
            .invoke(
                committed -> {
                  Checkpoint now = committed.checkpoint();
                  Checkpoint before = last.getAndSet(now);
                  metrics.moved(
                      task.kind(),
                      now.rowsDone() - before.rowsDone(),
                      Math.max(0, now.bytesDone() - before.bytesDone()));
                  asked.set(committed.requested() != null ? committed.requested() : localStop);
                })
            // Up to the first checkpoint that says stop: the pipeline is cancelled there, between
            // two
            // committed batches, so the task is exactly at that checkpoint.
            .select()
            .first(committed -> asked.get() == null)
            .onItem()
            .ignoreAsUni()
            .map(
                done ->
                    asked.get() == null ? (Stop) new Stop.DataDone() : new Stop.Asked(asked.get()))
            .onFailure()
            .recoverWithItem(Stop.Failed::new);
    // Whichever comes first; the other is cancelled. The end is written once the job let go of
    // what it held (bounded: a job that cannot say so does not hold the end back for long).
    return Uni.combine()
        .any()
        .of(batches, askedNow)
        .call(
            () ->
                job.settled(task)
                    .ifNoItem()
                    .after(SETTLE_WAIT)
                    .recoverWithItem((Void) null)
                    .onFailure()
                    .recoverWithNull());
  }
}
