package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * What a job kind knows of a task before it is stored. {@code hold} is null unless one instance
 * alone can run the task for now; {@code createdBy} is the subject of the caller it belongs to.
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
    Hold hold,
    String createdBy) {

  /**
   * A task that only {@code instance} may run until it releases it or stops renewing the hold
   * ({@link TaskStore#renewHolds}) for {@code leaseMillis}: other instances leave it alone
   * meanwhile. (An import whose file is still arriving: only the instance receiving it can follow
   * it.)
   */
  public record Hold(String instance, long leaseMillis) {}
}
