package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A task as stored in {@code tsm.task}. */
public record Task(
    UUID id,
    TaskKind kind,
    TaskState state,
    TaskState requestedState,
    String schema,
    String table,
    JsonObject options,
    JsonArray columns,
    String stagingTable,
    String fileName,
    String fileSha256,
    Long bytesTotal,
    Long rowsTotal,
    Checkpoint checkpoint,
    String error,
    String owner,
    OffsetDateTime runStartedAt,
    Long runRowsStart,
    Long runBytesStart,
    OffsetDateTime createdAt,
    OffsetDateTime updatedAt,
    OffsetDateTime finishedAt,
    OffsetDateTime requestedAt,
    String uploadOwner,
    OffsetDateTime fileExpiredAt) {

  /** Whether its file was still arriving when this row was read. */
  public boolean uploading() {
    return uploadOwner != null;
  }
}
