package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/** What a job kind knows of a task before it is stored. */
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
    Checkpoint start) {}
