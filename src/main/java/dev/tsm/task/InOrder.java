package dev.tsm.task;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.subscription.UniEmitter;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * The pipeline every job runs: batches written side by side, committed in their order. Each write
 * runs on a worker in its own transaction; it gets the checkpoint of the batch before it as a
 * future that completes once that batch committed (or fails as it failed), does its own work
 * meanwhile, and commits after it: each commit so covers everything before its batch's end. At most
 * {@code parallelism} writes are in flight (1: strictly one after the other); the next batch is
 * pulled only when one ends. A resumed run's first batch is written alone: the writes after it
 * start once it ended, so the first commit after a resume does not share the cores with them.
 */
public final class InOrder {
  private static final Logger LOG = Logger.getLogger(InOrder.class);
  private static final CompletableFuture<?> STARTED = CompletableFuture.completedFuture(null);

  private InOrder() {}

  /**
   * A batch's write and commit, on a worker thread, after {@code before} completed; it gives up
   * once {@code stop} says the run stopped (see {@link RunStop}).
   */
  @FunctionalInterface
  public interface Write<B> {
    Committed write(B batch, CompletableFuture<Checkpoint> before, RunStop stop);
  }

  /**
   * The committed checkpoints of {@code batches}, in their order, starting after {@code start};
   * each followed by a pause of {@code throttle} (none when zero). Cancelling the stream (the run
   * stopped) stops the writes in flight.
   */
  public static <B> Multi<Committed> commit(
      Multi<B> batches, Checkpoint start, int parallelism, Duration throttle, Write<B> write) {
    AtomicReference<CompletableFuture<Checkpoint>> previous =
        new AtomicReference<>(CompletableFuture.completedFuture(start));
    RunStop stop = new RunStop();
    // What a batch's write waits for before it starts: nothing, except after a resume, where the
    // writes after the first wait for the first batch's own commit (or its failure).
    AtomicReference<CompletableFuture<?>> afterFirst =
        new AtomicReference<>(start.rowsDone() > 0 || start.bytesDone() > 0 ? null : STARTED);
    return batches
        .onItem()
        .transformToUni(
            batch -> {
              CompletableFuture<?> after = afterFirst.get();
              Uni<Committed> written =
                  one(batch, previous, stop, write, after == null ? STARTED : after);
              if (after == null) {
                afterFirst.set(previous.get()); // the future this first batch completes
              }
              return Throttle.after(written, throttle);
            })
        .merge(parallelism)
        .onCancellation()
        .invoke(stop::stop);
  }

  /**
   * The checkpoint of the batch before, once it committed; if that batch failed, this one fails the
   * same way (its own work is then rolled back with it). Blocking: call from a write.
   */
  public static Checkpoint committedBefore(CompletableFuture<Checkpoint> before) {
    try {
      return before.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException failure) {
        throw failure;
      }
      throw e;
    } catch (CancellationException e) {
      throw new IllegalStateException("the batch before was cancelled", e);
    }
  }

  /** One batch: chained after the one before it, in the order the batches were pulled. */
  private static <B> Uni<Committed> one(
      B batch,
      AtomicReference<CompletableFuture<Checkpoint>> previous,
      RunStop stop,
      Write<B> write,
      CompletableFuture<?> after) {
    CompletableFuture<Checkpoint> before = previous.get();
    CompletableFuture<Checkpoint> mine = new CompletableFuture<>();
    previous.set(mine);
    return Uni.createFrom()
        .emitter(
            emitter -> {
              AtomicBoolean cancelled = new AtomicBoolean();
              emitter.onTermination(() -> cancelled.set(true)); // before any signal: a cancel
              // Started once `after` completes: no thread waits for it (a stopped run's write
              // then gives up at once).
              after.whenComplete(
                  (done, firstFailure) ->
                      Infrastructure.getDefaultWorkerPool()
                          .execute(
                              () -> {
                                Committed committed;
                                try {
                                  committed = write.write(batch, before, stop);
                                } catch (RuntimeException e) {
                                  // The run hears of it before the batch after this one (which then
                                  // fails the same way, and finds its run ended).
                                  // Stopped: the stream was cancelled, even if the cancel has not
                                  // reached this batch's emitter yet.
                                  failIfListened(
                                      emitter, cancelled.get() || e instanceof RunStop.Stopped, e);
                                  mine.completeExceptionally(e);
                                  return;
                                }
                                // Emitted before the next batch may commit: the run hears of the
                                // commits in their order, whichever thread ends first.
                                emitter.complete(committed);
                                mine.complete(committed.checkpoint());
                              }));
            });
  }

  /**
   * A batch that fails once its run has ended (the batch beside it failed first and the run
   * cancelled the rest) has nobody left to tell: said at debug level, not dropped as an error.
   */
  private static void failIfListened(
      UniEmitter<? super Committed> emitter, boolean cancelled, RuntimeException e) {
    if (cancelled) {
      LOG.debugf("a batch of a run that already ended failed too: %s", e.getMessage());
    } else {
      emitter.fail(e);
    }
  }
}
