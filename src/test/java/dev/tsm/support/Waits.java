package dev.tsm.support;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The one home of the tests' waiting. A test waits for a condition ({@link #until}, or Awaitility
 * directly); it lets time pass ({@link #pause}) only where there is no condition to wait for: a
 * deliberately slow client or writer, or the spacing of a poll loop. A period in which nothing may
 * happen is checked throughout with {@link #holdsFor}, not slept through and checked once.
 */
public final class Waits {
  private static final Duration POLL = Duration.ofMillis(50);

  private Waits() {}

  /**
   * Lets {@code millis} pass. An interrupt sets the thread's flag again and ends the test with an
   * {@link IllegalStateException}: a test thread is interrupted only when it is to stop.
   */
  public static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while pausing " + millis + " ms", e);
    }
  }

  public static void pause(Duration duration) {
    pause(duration.toMillis());
  }

  /** Waits until {@code condition} holds, polling every 50 ms; fails naming {@code what}. */
  public static void until(Duration atMost, String what, BooleanSupplier condition) {
    await(what).atMost(atMost).pollInterval(POLL).until(condition::getAsBoolean);
  }

  /** Waits until {@code value} gives a non-null result, and returns it. */
  public static <T> T untilValue(
      Duration atMost, String what, java.util.function.Supplier<T> value) {
    Object[] seen = new Object[1];
    until(
        atMost,
        what,
        () -> {
          seen[0] = value.get();
          return seen[0] != null;
        });
    @SuppressWarnings("unchecked")
    T result = (T) seen[0];
    return result;
  }

  /**
   * Runs {@code check} over and over for the whole {@code period} (every 50 ms, and once more at
   * its end); its first failure is the test's. For "nothing moves while ...": a paused task, a task
   * no instance may claim.
   */
  public static void holdsFor(Duration period, Runnable check) {
    long end = System.nanoTime() + period.toNanos();
    while (System.nanoTime() < end) {
      check.run();
      pause(Math.max(1, Math.min(POLL.toMillis(), (end - System.nanoTime()) / 1_000_000)));
    }
    check.run();
  }
}
