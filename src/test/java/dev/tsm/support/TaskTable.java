package dev.tsm.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The task rows as the database holds them, read over one JDBC connection kept open (cheap enough
 * to poll every few milliseconds); reconnects when the database went away. Independent of any
 * service instance, so it also sees tasks while every instance is dead.
 */
public final class TaskTable implements AutoCloseable {
  private final TestDatabase.Pg pg;
  private Connection connection;

  public TaskTable(TestDatabase.Pg pg) {
    this.pg = pg;
  }

  /** One task row. */
  public record Row(
      String state,
      String requested,
      String owner,
      long rowsDone,
      long bytesDone,
      Long bytesTotal,
      String error) {
    public boolean is(String s) {
      return s.equals(state);
    }

    public boolean isFinal() {
      return is("COMPLETED") || is("TERMINATED");
    }
  }

  public synchronized Row row(String id) {
    String sql =
        "SELECT state, requested_state, owner, rows_done, bytes_done, bytes_total, error"
            + " FROM tsm.task WHERE id = ?";
    for (int attempt = 0; ; attempt++) {
      try {
        if (connection == null || connection.isClosed()) {
          connection = pg.connect();
        }
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
          ps.setObject(1, UUID.fromString(id));
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              throw new AssertionError("no task " + id);
            }
            long total = rs.getLong(6);
            return new Row(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.wasNull() ? null : total,
                rs.getString(7));
          }
        }
      } catch (SQLException e) {
        closeQuietly();
        if (attempt >= 2) {
          throw new IllegalStateException("cannot read task " + id + ": " + e.getMessage(), e);
        }
        Waits.pause(200); // a moment before the retry on a fresh connection
      }
    }
  }

  /**
   * Polls the task until {@code until} holds; fails with the last row seen after {@code atMost}, or
   * at once when {@code failFast} holds (a state the wait can no longer leave).
   */
  public Row await(
      String id, Duration atMost, String what, Predicate<Row> until, Predicate<Row> failFast) {
    long deadline = System.nanoTime() + atMost.toNanos();
    Row last = null;
    while (true) {
      last = row(id);
      if (until.test(last)) {
        return last;
      }
      if (failFast.test(last)) {
        throw new AssertionError("task " + id + " can no longer be " + what + ": " + last);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "task " + id + " not " + what + " within " + atMost + "; last: " + last);
      }
      Waits.pause(5);
    }
  }

  /** Waits for a state; a final state other than the one awaited fails at once. */
  public Row awaitState(String id, Duration atMost, String state) {
    return await(
        id, atMost, state, r -> r.is(state), r -> !r.is(state) && (r.isFinal() || r.is("FAILED")));
  }

  /** Waits until a run of {@code instance} holds the task. */
  public Row awaitOwner(String id, Duration atMost, ServiceProcess instance) {
    return await(
        id,
        atMost,
        "RUNNING on " + instance.name(),
        r -> r.is("RUNNING") && instance.owns(r.owner()),
        r -> r.isFinal() || r.is("FAILED"));
  }

  /** Waits until the task has done at least {@code rows} rows while RUNNING. */
  public Row awaitRows(String id, Duration atMost, long rows) {
    return await(
        id,
        atMost,
        "past row " + rows,
        r -> r.rowsDone() >= rows,
        r -> r.isFinal() || r.is("FAILED"));
  }

  private void closeQuietly() {
    try {
      if (connection != null) {
        connection.close();
      }
    } catch (SQLException ignored) {
      // broken anyway
    }
    connection = null;
  }

  @Override
  public synchronized void close() {
    closeQuietly();
  }
}
