package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps a {@code tsm.task} row to a {@link Task}, with its callback deliveries when the row has them
 * (column {@value #CALLBACKS}, see {@link TaskStore#WITH_CALLBACKS}).
 */
public final class TaskRows {
  static final String CALLBACKS = "callbacks";

  private TaskRows() {}

  public static Task task(Row row) {
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
        callback(row),
        row.getLong("version"));
  }

  private static Task.Callback callback(Row row) {
    String url = CallbackUrl.of((JsonObject) row.getValue("options"));
    if (url == null) {
      return null;
    }
    if (row.getColumnIndex(CALLBACKS) < 0) {
      return new Task.Callback(url, null);
    }
    List<Task.Delivery> deliveries = new ArrayList<>();
    JsonArray array = (JsonArray) row.getValue(CALLBACKS);
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        JsonObject d = array.getJsonObject(i);
        deliveries.add(
            new Task.Delivery(
                TaskState.valueOf(d.getString("state")),
                d.getString("status"),
                d.getInteger("attempts"),
                d.getInteger("lastStatus"),
                d.getString("lastError"),
                time(d.getString("nextAt")),
                time(d.getString("deliveredAt"))));
      }
    }
    return new Task.Callback(url, deliveries);
  }

  private static OffsetDateTime time(String iso) {
    return iso == null ? null : OffsetDateTime.parse(iso);
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
