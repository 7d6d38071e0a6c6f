package dev.tsm.task;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A task as stored in {@code tsm.task}. {@code version} counts its visible changes: one more with
 * each UPDATE that changes what a client sees, the same number on every replica.
 */
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
    String heldBy,
    OffsetDateTime fileExpiredAt,
    String createdBy,
    Command lastCommand,
    Upload upload,
    Callback callback,
    long version) {

  /** The last pause, resume or terminate a caller gave the task: which, by whom, when. */
  public record Command(String name, String by, OffsetDateTime at) {}

  /**
   * The resumable upload that feeds an import: bytes received as sent ({@code received}, of {@code
   * length} once declared), the bytes of the file they make ({@code plain}: what the import may
   * read; the same unless the file is gzip-compressed), whether all arrived, and the length a run
   * read before it handed the task back to wait for more ({@code parkedAt}, null when not waiting).
   */
  public record Upload(
      UUID id,
      long received,
      Long length,
      long plain,
      boolean complete,
      Long parkedAt,
      OffsetDateTime expiresAt) {}

  /**
   * The URL the task calls back when it ends, and one delivery per final state it entered ({@code
   * deliveries} null when not read with the task).
   */
  public record Callback(String url, List<Delivery> deliveries) {}

  /**
   * A POST of the task as it entered {@code state}: pending (to be attempted, again after a
   * failure), delivered (a 2xx answer) or failed (given up).
   */
  @Schema(name = "Delivery")
  public record Delivery(
      @Schema(description = "The final state this delivery reports") TaskState state,
      @Schema(enumeration = {"pending", "delivered", "failed"}) String status,
      int attempts,
      @Schema(nullable = true, description = "The receiver's last HTTP status; null if none")
          Integer lastStatus,
      @Schema(nullable = true, description = "Why the last attempt failed; null if none")
          String lastError,
      @Schema(nullable = true, description = "When the next attempt is due; null if none")
          OffsetDateTime nextAt,
      @Schema(nullable = true, description = "When the receiver took it; null until then")
          OffsetDateTime deliveredAt) {}

  /** Whether one instance alone could run it when this row was read (see {@link NewTask.Hold}). */
  public boolean held() {
    return heldBy != null;
  }
}
