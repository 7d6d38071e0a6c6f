package dev.tsm.importing;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The rows an import set aside ({@code tsm.task_reject}): stored with the batch they came from,
 * read back a page at a time, dropped with the task's work.
 */
@ApplicationScoped
public class Rejects {
  private static final int PAGE = 500;

  private final Pool pool;

  Rejects(Pool pool) {
    this.pool = pool;
  }

  /** A row set aside: its line in the file, why, and its text as sent (cut to 4 KiB). */
  public record Reject(long line, String reason, String record) {}

  /** Stores a batch's rejects in the batch's own transaction. */
  void save(Connection c, UUID taskId, List<Reject> rejects) throws SQLException {
    if (rejects.isEmpty()) {
      return;
    }
    String sql =
        "INSERT INTO tsm.task_reject (task_id, line, reason, record) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT DO NOTHING";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Reject r : rejects) {
        ps.setObject(1, taskId);
        ps.setLong(2, r.line());
        ps.setString(3, r.reason());
        ps.setString(4, r.record());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Stores the rows that failed the task (their batch rolled back), while the run still owns it: a
   * task terminated or taken over meanwhile gets none. Returns how many were stored.
   */
  int saveFailing(Connection c, UUID taskId, String owner, BadRowException failure)
      throws SQLException {
    String sql =
        "INSERT INTO tsm.task_reject (task_id, line, reason, record) SELECT ?, ?, ?, ?"
            + " WHERE EXISTS (SELECT 1 FROM tsm.task WHERE id = ? AND owner = ?)"
            + " ON CONFLICT DO NOTHING";
    int saved = 0;
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Reject r : failure.rejects()) {
        ps.setObject(1, taskId);
        ps.setLong(2, r.line());
        ps.setString(3, r.reason());
        ps.setString(4, r.record());
        ps.setObject(5, taskId);
        ps.setString(6, owner);
        saved += ps.executeUpdate();
      }
    }
    return saved;
  }

  /** Drops a task's rejects in the transaction that undoes its work. */
  void delete(Connection c, UUID taskId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM tsm.task_reject WHERE task_id = ?")) {
      ps.setObject(1, taskId);
      ps.executeUpdate();
    }
  }

  /**
   * A task's rejects in file order, a page at a time (keyset on the line): the next page is read
   * only when the last one was taken, so no reader ever holds them all.
   */
  public Multi<List<Reject>> pages(UUID taskId) {
    AtomicLong after = new AtomicLong(0);
    return Multi.createBy()
        .repeating()
        .uni(() -> page(taskId, after.get()))
        .whilst(rows -> rows.size() == PAGE) // the short page is still emitted
        .filter(rows -> !rows.isEmpty())
        .invoke(rows -> after.set(rows.get(rows.size() - 1).line()));
  }

  private Uni<List<Reject>> page(UUID taskId, long afterLine) {
    String sql =
        "SELECT line, reason, record FROM tsm.task_reject WHERE task_id = $1 AND line > $2"
            + " ORDER BY line LIMIT $3";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(taskId, afterLine, PAGE))
        .map(
            rows -> {
              List<Reject> page = new ArrayList<>();
              rows.forEach(
                  r ->
                      page.add(
                          new Reject(
                              r.getLong("line"), r.getString("reason"), r.getString("record"))));
              return page;
            });
  }
}
