package dev.tsm.task;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * The task-row statements that must share a JDBC transaction with a job's own work: the checkpoint
 * with its batch, the final state with publishing or undoing.
 */
public final class TaskTx {
  private TaskTx() {}

  /** The state of a task row, locked until the transaction ends. */
  public record Locked(
      TaskState state, TaskState requested, String owner, OffsetDateTime updatedAt) {}

  public static void insert(Connection c, NewTask t) throws SQLException {
    String sql =
        "INSERT INTO tsm.task (id, kind, state, schema_name, table_name, options, columns,"
            + " staging_table, file_name, file_sha256, bytes_total, rows_total, bytes_done, line,"
            + " upload_owner, upload_until)"
            + " VALUES (?, ?, 'PENDING', ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?,"
            + " now() + ? * interval '1 millisecond')";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, t.id());
      ps.setString(2, t.kind().name());
      ps.setString(3, t.schema());
      ps.setString(4, t.table());
      ps.setString(5, t.options().encode());
      ps.setString(6, t.columns().encode());
      ps.setString(7, t.stagingTable());
      ps.setString(8, t.fileName());
      ps.setString(9, t.fileSha256());
      setLong(ps, 10, t.bytesTotal());
      setLong(ps, 11, t.rowsTotal());
      ps.setLong(12, t.start().bytesDone());
      ps.setLong(13, t.start().line());
      ps.setString(14, t.upload() == null ? null : t.upload().owner());
      setLong(ps, 15, t.upload() == null ? null : t.upload().leaseMillis());
      ps.executeUpdate();
    }
  }

  /**
   * Bounds how long the current transaction may sit idle, its client silent between statements. A
   * process frozen in the middle of a batch (a long GC pause, a suspended VM, {@code kill -STOP})
   * would otherwise keep the task row or the staging table locked for as long as it stays frozen,
   * and no other instance could take the task over: the server ends such a session instead. Twice
   * the lease, because a batch waiting for the one before it to commit is idle meanwhile.
   */
  public static void boundIdle(Connection c, long leaseMillis) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL idle_in_transaction_session_timeout = " + 2 * leaseMillis);
    }
  }

  /**
   * Records a checkpoint, fenced on the owner. Returns the stop asked of the task, if any.
   *
   * @throws LostTaskException when another instance owns the task now
   */
  public static TaskState saveCheckpoint(
      Connection c, UUID id, String owner, Checkpoint cp, long leaseMillis) throws SQLException {
    String sql =
        "UPDATE tsm.task SET rows_done = ?, rows_skipped = ?, bytes_done = ?, line = ?,"
            + " last_key = ?, updated_at = now(),"
            + " lease_until = now() + ? * interval '1 millisecond'"
            + " WHERE id = ? AND owner = ? AND state = 'RUNNING' RETURNING requested_state";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, cp.rowsDone());
      ps.setLong(2, cp.rowsSkipped());
      ps.setLong(3, cp.bytesDone());
      ps.setLong(4, cp.line());
      ps.setString(5, cp.lastKey());
      ps.setLong(6, leaseMillis);
      ps.setObject(7, id);
      ps.setString(8, owner);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new LostTaskException(id);
        }
        String requested = rs.getString(1);
        return requested == null ? null : TaskState.valueOf(requested);
      }
    }
  }

  /** Locks the task row: requests and other replicas wait until this transaction ends. */
  public static Locked lock(Connection c, UUID id) throws SQLException {
    String sql =
        "SELECT state, requested_state, owner, updated_at FROM tsm.task WHERE id = ? FOR UPDATE";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String requested = rs.getString(2);
        return new Locked(
            TaskState.valueOf(rs.getString(1)),
            requested == null ? null : TaskState.valueOf(requested),
            rs.getString(3),
            rs.getObject(4, OffsetDateTime.class));
      }
    }
  }

  /**
   * Moves a locked task to a state where no instance owns it. A termination without an error of its
   * own keeps the one recorded before (why it was asked, why it had failed).
   */
  public static void end(Connection c, UUID id, TaskState to, String error) throws SQLException {
    String sql =
        "UPDATE tsm.task SET state = ?, requested_state = NULL, owner = NULL, lease_until = NULL,"
            + " requested_at = NULL, error = COALESCE(?, CASE WHEN ? THEN error END),"
            + " updated_at = now(), finished_at = CASE WHEN ? THEN now() END WHERE id = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, to.name());
      ps.setString(2, error);
      ps.setBoolean(3, to == TaskState.TERMINATED);
      ps.setBoolean(4, to.isFinal());
      ps.setObject(5, id);
      ps.executeUpdate();
    }
  }

  private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }
}
