package dev.tsm.tus;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The SQL of resumable uploads, within a caller's JDBC transaction. The offset moves only by
 * compare-and-set, fenced on the writer that holds the upload: the database decides every race.
 */
final class UploadStore {
  private UploadStore() {}

  static void insert(Connection c, UploadRow u, Duration expiry) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO tsm.upload (id, task_id, created_by, length, gzip, metadata, expires_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, now() + ? * interval '1 millisecond')")) {
      ps.setObject(1, u.id());
      ps.setObject(2, u.taskId());
      ps.setString(3, u.createdBy());
      setLong(ps, 4, u.length());
      ps.setBoolean(5, u.gzip());
      ps.setString(6, u.metadata());
      ps.setLong(7, expiry.toMillis());
      ps.executeUpdate();
    }
    mirror(c, u.id());
  }

  static UploadRow find(Connection c, UUID id) throws SQLException {
    return one(c, "SELECT * FROM tsm.upload WHERE id = ?", id);
  }

  /**
   * Takes the upload for one writing request, unless another holds it (its lease running) or it
   * ended. Null then: {@link #find} tells which.
   */
  static UploadRow take(Connection c, UUID id, String writer, Duration lease) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.upload SET writer = ?, writer_until = now() + ? * interval '1 millisecond'"
                + " WHERE id = ? AND ended IS NULL AND (writer IS NULL OR writer_until < now())"
                + " RETURNING *")) {
      ps.setString(1, writer);
      ps.setLong(2, lease.toMillis());
      ps.setObject(3, id);
      return first(ps);
    }
  }

  /** Extends a writer's hold; false when it lost it (its lease ran out and another took it). */
  static boolean renew(Connection c, UUID id, String writer, Duration lease) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.upload SET writer_until = now() + ? * interval '1 millisecond'"
                + " WHERE id = ? AND writer = ?")) {
      ps.setLong(1, lease.toMillis());
      ps.setObject(2, id);
      ps.setString(3, writer);
      return ps.executeUpdate() == 1;
    }
  }

  /** Lets go of the upload without moving its offset. */
  static void letGo(Connection c, UUID id, String writer) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.upload SET writer = NULL, writer_until = NULL WHERE id = ? AND writer = ?")) {
      ps.setObject(1, id);
      ps.setString(2, writer);
      ps.executeUpdate();
    }
  }

  /**
   * Moves the offset from {@code from} to {@code received} (and the file's bytes to {@code plain}),
   * declares the length if it was deferred, lets go of the upload and starts its expiry again; the
   * task shows it in the same transaction. If {@code gzip}, the upload is marked gzip first (its
   * first bytes showed it). Null when the writer lost the upload meanwhile.
   */
  static UploadRow advance(
      Connection c,
      UUID id,
      String writer,
      long from,
      long received,
      long plain,
      Long length,
      Duration expiry,
      boolean gzip)
      throws SQLException {
    // The task's row first: a transaction that changes both rows takes it before the upload's, as
    // a terminate does (it then ends the upload), so two never wait on each other in turn.
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT 1 FROM tsm.task WHERE id = (SELECT task_id FROM tsm.upload WHERE id = ?)"
                + " FOR NO KEY UPDATE")) {
      ps.setObject(1, id);
      ps.executeQuery().close();
    }
    if (gzip) {
      markGzip(c, id);
    }
    UploadRow moved;
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.upload SET received = ?, plain = ?, length = coalesce(length, ?),"
                + " ended = CASE WHEN ? = coalesce(length, ?) THEN 'COMPLETE' END,"
                + " expires_at = now() + ? * interval '1 millisecond',"
                + " writer = NULL, writer_until = NULL, updated_at = now()"
                + " WHERE id = ? AND writer = ? AND received = ? AND ended IS NULL RETURNING *")) {
      ps.setLong(1, received);
      ps.setLong(2, plain);
      setLong(ps, 3, length);
      ps.setLong(4, received);
      setLong(ps, 5, length);
      ps.setLong(6, expiry.toMillis());
      ps.setObject(7, id);
      ps.setString(8, writer);
      ps.setLong(9, from);
      moved = first(ps);
    }
    if (moved != null) {
      mirror(c, id);
    }
    return moved;
  }

  /** Ends an upload that was not complete: no more bytes will be taken. */
  static void end(Connection c, UUID taskId, String why) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.upload SET ended = ?, writer = NULL, writer_until = NULL,"
                + " updated_at = now() WHERE task_id = ? AND ended IS NULL")) {
      ps.setString(1, why);
      ps.setObject(2, taskId);
      ps.executeUpdate();
    }
  }

  /** A client ended the upload, complete or not: it answers 410 from now on. */
  static void terminated(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.upload SET ended = 'TERMINATED', writer = NULL, writer_until = NULL,"
                + " updated_at = now() WHERE id = ?")) {
      ps.setObject(1, id);
      ps.executeUpdate();
    }
  }

  /** The first bytes showed a gzip file: they are decompressed as they arrive. */
  private static void markGzip(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE tsm.upload SET gzip = true WHERE id = ? AND received = 0")) {
      ps.setObject(1, id);
      ps.executeUpdate();
    }
  }

  /** Unfinished uploads that expired, locked for this sweep (others skip them). */
  static List<UploadRow> expired(Connection c, int limit) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT * FROM tsm.upload WHERE ended IS NULL AND expires_at < now()"
                + " AND (writer IS NULL OR writer_until < now())"
                + " ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED")) {
      ps.setInt(1, limit);
      List<UploadRow> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(UploadRow.of(rs));
        }
      }
      return rows;
    }
  }

  /** The task shows what arrived of its upload (and its SSE subscribers hear of it). */
  private static void mirror(Connection c, UUID uploadId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.task t SET upload_id = u.id, upload_received = u.received,"
                + " upload_length = u.length, upload_plain = u.plain,"
                + " upload_complete = u.ended IS NOT DISTINCT FROM 'COMPLETE',"
                + " upload_expires_at = CASE WHEN u.ended IS NULL THEN u.expires_at END,"
                // The file's length: known once complete, or declared for a file sent as is.
                + " bytes_total = CASE WHEN u.ended = 'COMPLETE' THEN u.plain"
                + "   WHEN u.gzip THEN NULL ELSE u.length END,"
                + " updated_at = now()"
                + " FROM tsm.upload u WHERE u.id = ? AND t.id = u.task_id")) {
      ps.setObject(1, uploadId);
      ps.executeUpdate();
    }
  }

  private static UploadRow one(Connection c, String sql, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      return first(ps);
    }
  }

  private static UploadRow first(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? UploadRow.of(rs) : null;
    }
  }

  private static void setLong(PreparedStatement ps, int i, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, value);
    }
  }
}
