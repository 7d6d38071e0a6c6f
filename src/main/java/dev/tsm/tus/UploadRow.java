package dev.tsm.tus;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A resumable upload as stored in {@code tsm.upload}: {@code received} bytes as sent (of {@code
 * length}, null until declared), {@code plain} bytes of the CSV file they make, and why no more
 * will come ({@code ended}, null while they may).
 */
record UploadRow(
    UUID id,
    UUID taskId,
    String createdBy,
    Long length,
    long received,
    long plain,
    boolean gzip,
    String metadata,
    OffsetDateTime expiresAt,
    String ended) {

  static final String COMPLETE = "COMPLETE";
  static final String TERMINATED = "TERMINATED";
  static final String EXPIRED = "EXPIRED";

  static UploadRow of(ResultSet rs) throws SQLException {
    long length = rs.getLong("length");
    boolean noLength = rs.wasNull();
    return new UploadRow(
        rs.getObject("id", UUID.class),
        rs.getObject("task_id", UUID.class),
        rs.getString("created_by"),
        noLength ? null : length,
        rs.getLong("received"),
        rs.getLong("plain"),
        rs.getBoolean("gzip"),
        rs.getString("metadata"),
        rs.getObject("expires_at", OffsetDateTime.class),
        rs.getString("ended"));
  }

  boolean complete() {
    return COMPLETE.equals(ended);
  }
}
