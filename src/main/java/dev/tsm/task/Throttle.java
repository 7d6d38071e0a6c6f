package dev.tsm.task;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The pause after each batch ({@code tsm.runner.throttle}), timed by a scheduler of the service's
 * own. Mutiny's default delay is a Vert.x timer on the context the batch ran in; Quarkus closes
 * those contexts at shutdown before the runner drains, which cancels the timer without a word: the
 * run never reaches its next batch boundary and the drain waits out its timeout with the task still
 * owned.
 */
public final class Throttle {
  private static final ScheduledExecutorService SCHEDULER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tsm-throttle");
            t.setDaemon(true);
            return t;
          });

  private Throttle() {}

  /** Runs {@code action} once {@code pause} is over (at once when zero). */
  public static void then(Runnable action, Duration pause) {
    if (pause.isZero() || pause.isNegative()) {
      action.run();
    } else {
      SCHEDULER.schedule(action, pause.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** {@code batch}, its item delayed by {@code pause} (none when zero). */
  public static <T> Uni<T> after(Uni<T> batch, Duration pause) {
    return pause.isZero() ? batch : batch.onItem().delayIt().onExecutor(SCHEDULER).by(pause);
  }
}
