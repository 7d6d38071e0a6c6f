package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * What a job kind knows of a task before it is stored. {@code upload} is null unless the task
 * starts while its file is still arriving.
 */
public record NewTask(
    UUID id,
    TaskKind kind,
    String schema,
    String table,
    JsonObject options,
    JsonArray columns,
    String stagingTable,
    String fileName,
    String fileSha256,
    Long bytesTotal,
    Long rowsTotal,
    Checkpoint start,
    UploadHold upload) {

  /** The instance receiving the file, which alone can follow it until the upload ends. */
  public record UploadHold(String owner, long leaseMillis) {}
}
