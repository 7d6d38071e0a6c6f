package dev.tsm.importing;

import dev.tsm.db.Transactions;
import dev.tsm.task.Checkpoint;
import dev.tsm.task.Committed;
import dev.tsm.task.InOrder;
import dev.tsm.task.RunStop;
import dev.tsm.task.TaskState;
import dev.tsm.task.TaskStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The write seam of imports: one batch and its checkpoint in one transaction, through PostgreSQL
 * COPY (the fastest path into PostgreSQL; the reactive client has none). When PostgreSQL refuses a
 * value, the batch is retried in halves under savepoints until each bad row stands alone, so good
 * rows are never lost and each bad row gets PostgreSQL's own reason.
 */
final class CopyBatchWriter {
  private static final Pattern COLUMN = Pattern.compile(", column ([^:]+):");

  private final Transactions transactions;
  private final TaskStore store;
  private final Rejects stored;

  CopyBatchWriter(Transactions transactions, TaskStore store, Rejects stored) {
    this.transactions = transactions;
    this.store = store;
    this.stored = stored;
  }

  /** Where a batch goes and on whose behalf. */
  record Target(
      UUID taskId,
      String owner,
      String copySql,
      ImportOptions options,
      long leaseMillis,
      int maxStoredRejects) {

    /** Twice the lease: a batch waiting for the one before it to commit is idle meanwhile. */
    Duration idleLimit() {
      return Duration.ofMillis(2 * leaseMillis);
    }
  }

  /**
   * Writes a batch in its own transaction, then commits it only after the batch before it committed
   * ({@code before} completes with that batch's checkpoint). Batches can so be copied side by side
   * on several connections while checkpoints still commit in file order: each commit covers every
   * byte before its batch's end.
   */
  Committed write(Target target, Batch batch, CompletableFuture<Checkpoint> before, RunStop stop) {
    try {
      return writeBatch(target, batch, before, stop);
    } catch (BadRowException e) {
      // The batch rolled back: the rows that failed the task are kept for its rejects file.
      transactions.inTransaction(c -> stored.saveFailing(c, target.taskId(), target.owner(), e));
      throw e;
    }
  }

  private Committed writeBatch(
      Target target, Batch batch, CompletableFuture<Checkpoint> before, RunStop stop) {
    return transactions.inTransaction(
        c -> {
          Transactions.boundIdle(c, target.idleLimit());
          List<Rejects.Reject> rejects = new ArrayList<>(batch.rejects());
          long copied;
          try {
            copied = copyAll(c, target, batch, rejects, stop);
          } catch (BadRowException e) {
            InOrder.committedBefore(before); // a bad row in an earlier batch is the one to report
            throw e;
          }
          Checkpoint previous = InOrder.committedBefore(before);
          failOnBadRows(target.options(), rejects, previous.rowsSkipped());
          // Every bad row so far was set aside: those before this batch took their places first.
          long room = Math.max(0, target.maxStoredRejects() - previous.rowsSkipped());
          stored.save(c, target.taskId(), rejects.subList(0, (int) Math.min(room, rejects.size())));
          Checkpoint next =
              new Checkpoint(
                  previous.rowsDone() + copied,
                  previous.rowsSkipped() + rejects.size(),
                  batch.endOffset(),
                  batch.endLine(),
                  null);
          stop.check(); // a stopped run's batch would only be fenced out: the task row stays free
          TaskState requested =
              store.saveCheckpoint(c, target.taskId(), target.owner(), next, target.leaseMillis());
          return new Committed(next, requested);
        });
  }

  /**
   * COPY the whole batch; if PostgreSQL refuses a value, find each bad row. Under the fail policy
   * this runs even when the scanner set a row aside (the batch then ends with it): a value
   * PostgreSQL refuses on an earlier line is the first bad row, and only the COPY finds it.
   */
  private long copyAll(
      Connection c, Target target, Batch batch, List<Rejects.Reject> rejects, RunStop stop)
      throws SQLException {
    try {
      return copy(c, target, batch, 0, batch.rows(), stop);
    } catch (SQLException e) {
      if (!isBadData(e)) {
        throw e;
      }
      c.rollback();
      Transactions.boundIdle(c, target.idleLimit()); // the rollback undid it
      return isolate(c, target, batch, 0, batch.rows(), rejects, stop);
    }
  }

  /**
   * COPY records [from, to) of the batch; returns the rows PostgreSQL took. Cancelled in the server
   * if the run stops meanwhile: the whole batch is in the socket at once, so only a cancel stops
   * it.
   */
  private static long copy(Connection c, Target target, Batch batch, int from, int to, RunStop stop)
      throws SQLException {
    if (from == to) {
      return 0;
    }
    return stop.cancellable(c, connection -> copy(connection, target, batch, from, to));
  }

  private static long copy(Connection c, Target target, Batch batch, int from, int to)
      throws SQLException {
    CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(target.copySql());
    try {
      int start = batch.starts()[from];
      in.writeToCopy(batch.data(), start, batch.starts()[to] - start);
      long rows = in.endCopy();
      if (rows != to - from) {
        throw new IllegalStateException(
            "PostgreSQL took "
                + rows
                + " of "
                + (to - from)
                + " rows from line "
                + batch.lines()[from]
                + ": a line holding only \\. ends COPY data");
      }
      return rows;
    } finally {
      if (in.isActive()) {
        in.cancelCopy();
      }
    }
  }

  /**
   * COPY [from, to) under a savepoint; where PostgreSQL refuses, split until each bad row is alone.
   */
  private long isolate(
      Connection c,
      Target target,
      Batch batch,
      int from,
      int to,
      List<Rejects.Reject> rejects,
      RunStop stop)
      throws SQLException {
    if (from == to) {
      return 0;
    }
    Savepoint savepoint = c.setSavepoint();
    try {
      long rows = copy(c, target, batch, from, to, stop);
      c.releaseSavepoint(savepoint);
      return rows;
    } catch (SQLException e) {
      if (!isBadData(e)) {
        throw e;
      }
      c.rollback(savepoint);
      if (to - from == 1) {
        rejects.add(new Rejects.Reject(batch.lines()[from], reason(e), text(batch, from)));
        if (target.options().onError() == ImportOptions.OnError.FAIL) {
          failOnBadRows(target.options(), rejects, 0);
        }
        return 0;
      }
      int mid = (from + to) >>> 1;
      return isolate(c, target, batch, from, mid, rejects, stop)
          + isolate(c, target, batch, mid, to, rejects, stop);
    }
  }

  private static void failOnBadRows(
      ImportOptions options, List<Rejects.Reject> rejects, long before) {
    if (rejects.isEmpty()) {
      return;
    }
    rejects.sort(Comparator.comparingLong(Rejects.Reject::line));
    Rejects.Reject first = rejects.get(0);
    if (options.onError() == ImportOptions.OnError.FAIL) {
      throw new BadRowException("line " + first.line() + ": " + first.reason(), List.of(first));
    }
    Long max = options.maxErrors();
    if (max != null && before + rejects.size() > max) {
      int over = (int) Math.min(rejects.size() - 1, max - before);
      Rejects.Reject last = rejects.get(over);
      throw new BadRowException(
          "more than "
              + max
              + " bad rows (maxErrors); the first one over is line "
              + last.line()
              + ": "
              + last.reason(),
          rejects.subList(0, over + 1));
    }
  }

  /**
   * A value PostgreSQL refused (data exception or integrity violation), as opposed to an outage.
   */
  private static boolean isBadData(SQLException e) {
    String state = e.getSQLState();
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  private static String reason(SQLException e) {
    if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
      ServerErrorMessage m = p.getServerErrorMessage();
      Matcher column = COLUMN.matcher(m.getWhere() == null ? "" : m.getWhere());
      return (column.find() ? "column " + column.group(1) + ": " : "") + m.getMessage();
    }
    return e.getMessage();
  }

  private static String text(Batch batch, int record) {
    int start = batch.starts()[record];
    int length = Math.min(batch.starts()[record + 1] - start, 4096);
    return new String(batch.data(), start, length, java.nio.charset.StandardCharsets.UTF_8)
        .stripTrailing();
  }
}
