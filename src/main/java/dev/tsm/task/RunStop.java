package dev.tsm.task;

import dev.tsm.db.Transactions;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;

/**
 * The stop of one run as its batches in flight see it. Once a run is stopped at once (a pause or
 * terminate, or a stop read back at a checkpoint) its batches in flight can only roll back, so they
 * give up: a statement running for one is cancelled in PostgreSQL, and none saves a checkpoint
 * after the stop. Without this, a COPY of a whole batch ran on for up to 200 ms after a pause, on
 * the two cores a resume then needed, and an export page held the task row through the append and
 * sync of up to 16 MB, which the pause's end waited for.
 */
public final class RunStop {
  private static final Logger LOG = Logger.getLogger(RunStop.class);

  /** Thrown in a batch of a stopped run: its transaction rolls back, as the fence would make it. */
  public static final class Stopped extends RuntimeException {
    public Stopped(Throwable cause) {
      super("the run was stopped", cause, false, false);
    }
  }

  /** A statement being run for a batch, and whether a cancel was sent to it. */
  private static final class Running {
    final PGConnection connection;
    final CountDownLatch sent = new CountDownLatch(1);
    boolean cancelled;

    Running(PGConnection connection) {
      this.connection = connection;
    }
  }

  private static final long CANCEL_WAIT_SECONDS = 10;

  private final List<Running> running = new ArrayList<>();
  private boolean stopped;

  /** A stop for a run that is never stopped at once (tests, or work outside a run). */
  public static RunStop never() {
    return new RunStop();
  }

  /** Whether the run was stopped. */
  public synchronized boolean stopped() {
    return stopped;
  }

  /** Throws {@link Stopped} if the run was stopped: call before saving a checkpoint. */
  public void check() {
    if (stopped()) {
      throw new Stopped(null);
    }
  }

  /**
   * Stops the run: each statement running for one of its batches gets a cancel request, sent from a
   * worker (the request opens a connection of its own, which an event loop must not wait for).
   */
  void stop() {
    List<Running> now;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      now = List.copyOf(running);
      now.forEach(r -> r.cancelled = true);
    }
    for (Running r : now) {
      Infrastructure.getDefaultWorkerPool().execute(() -> cancel(r));
    }
  }

  /**
   * Runs {@code statement} on {@code c} so that a stop meanwhile cancels it in PostgreSQL; throws
   * {@link Stopped} instead of its result or failure once the run is stopped. The connection is not
   * given back before a cancel sent to it has reached the server, so a late cancel never lands on
   * another user's statement.
   */
  public <T> T cancellable(Connection c, Transactions.Work<T> statement) throws SQLException {
    Running r = new Running(c.unwrap(PGConnection.class));
    synchronized (this) {
      if (stopped) {
        throw new Stopped(null);
      }
      running.add(r);
    }
    T result;
    try {
      result = statement.run(c);
    } catch (SQLException | RuntimeException e) {
      if (settle(r)) {
        throw new Stopped(e);
      }
      throw e;
    }
    if (settle(r)) {
      throw new Stopped(null);
    }
    return result;
  }

  /**
   * Ends the watch on {@code r}; true if the run was stopped meanwhile (after its cancel landed).
   */
  private boolean settle(Running r) {
    boolean cancelled;
    synchronized (this) {
      running.remove(r);
      cancelled = r.cancelled;
    }
    if (cancelled) {
      try {
        // Bounded: the request has a connect and a socket timeout of its own.
        if (!r.sent.await(CANCEL_WAIT_SECONDS, TimeUnit.SECONDS)) {
          LOG.debug("a cancel request to a stopped run's statement is still being sent");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return true;
    }
    return stopped();
  }

  private static void cancel(Running r) {
    try {
      // pgjdbc returns once the server has closed the request's connection: it was delivered.
      r.connection.cancelQuery();
    } catch (SQLException e) {
      LOG.debugf("could not cancel a stopped run's statement: %s", e.getMessage());
    } finally {
      r.sent.countDown();
    }
  }
}
