package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;

/** Maps a {@code tsm.task} row to a {@link Task}. */
final class TaskRows {
  private TaskRows() {}

  static Task task(Row row) {
    String requested = row.getString("requested_state");
    Checkpoint checkpoint =
        new Checkpoint(
            row.getLong("rows_done"),
            row.getLong("rows_skipped"),
            row.getLong("bytes_done"),
            row.getLong("line"),
            row.getString("last_key"));
    return new Task(
        row.getUUID("id"),
        TaskKind.valueOf(row.getString("kind")),
        TaskState.valueOf(row.getString("state")),
        requested == null ? null : TaskState.valueOf(requested),
        row.getString("schema_name"),
        row.getString("table_name"),
        (JsonObject) row.getValue("options"),
        (JsonArray) row.getValue("columns"),
        row.getString("staging_table"),
        row.getString("file_name"),
        row.getString("file_sha256"),
        row.getLong("bytes_total"),
        row.getLong("rows_total"),
        checkpoint,
        row.getString("error"),
        row.getString("owner"),
        row.getOffsetDateTime("run_started_at"),
        row.getLong("run_rows_start"),
        row.getLong("run_bytes_start"),
        row.getOffsetDateTime("created_at"),
        row.getOffsetDateTime("updated_at"),
        row.getOffsetDateTime("finished_at"),
        row.getOffsetDateTime("requested_at"),
        row.getString("held_by"),
        row.getOffsetDateTime("file_expired_at"),
        row.getString("created_by"),
        row.getString("last_command") == null
            ? null
            : new Task.Command(
                row.getString("last_command"),
                row.getString("last_command_by"),
                row.getOffsetDateTime("last_command_at")),
        upload(row),
        row.getLong("version"));
  }

  private static Task.Upload upload(Row row) {
    if (row.getUUID("upload_id") == null) {
      return null;
    }
    return new Task.Upload(
        row.getUUID("upload_id"),
        row.getLong("upload_received"),
        row.getLong("upload_length"),
        row.getLong("upload_plain"),
        Boolean.TRUE.equals(row.getBoolean("upload_complete")),
        row.getLong("upload_parked_at"),
        row.getOffsetDateTime("upload_expires_at"));
  }
}
