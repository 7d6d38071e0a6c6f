package dev.tsm.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tsm.exporting.Compression;
import dev.tsm.task.CallbackUrl;
import dev.tsm.task.Task;
import dev.tsm.task.TaskAction;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskState;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A task as clients see it, with its progress worked out. */
@Schema(
    name = "Task",
    description = "A task and its live progress",
    example =
        "{\"id\": \"0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10\", \"kind\": \"IMPORT\","
            + " \"state\": \"RUNNING\", \"requestedState\": null, \"table\": \"public.sales\","
            + " \"options\": {\"mode\": \"create\", \"delimiter\": \",\", \"header\": true,"
            + " \"onError\": \"fail\", \"maxErrors\": null}, \"rowsDone\": 412000,"
            + " \"rowsSkipped\": 0, \"bytesDone\": 32900000, \"bytesTotal\": 79000000,"
            + " \"rowsTotal\": null, \"percent\": 41.6, \"rowsPerSecond\": 598000.0,"
            + " \"etaSeconds\": 1, \"error\": null, \"actions\": [\"pause\", \"terminate\"],"
            + " \"createdBy\": \"alice\", \"lastCommand\": null, \"upload\": null,"
            + " \"callback\": null,"
            + " \"createdAt\": \"2026-11-27T23:59:06.675Z\","
            + " \"updatedAt\": \"2026-11-27T23:59:07.412Z\", \"finishedAt\": null}")
@JsonInclude(JsonInclude.Include.ALWAYS)
public record TaskView(
    @Schema(example = "0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10") String id,
    TaskKind kind,
    TaskState state,
    @Schema(
            nullable = true,
            description =
                "A pause or terminate asked of a RUNNING task, not yet taken effect; null if none")
        TaskState requestedState,
    @Schema(example = "public.sales") String table,
    @Schema(
            description =
                "The options the task was created with; an export's include its compression"
                    + " (none or gzip)")
        Map<String, Object> options,
    long rowsDone,
    @Schema(description = "Bad rows set aside (onError=skip); see /tasks/{id}/rejects")
        long rowsSkipped,
    long bytesDone,
    @Schema(
            nullable = true,
            description =
                "The file's size: an import's when known (null for a stream of unknown length),"
                    + " an export's once COMPLETED")
        Long bytesTotal,
    @Schema(
            nullable = true,
            description =
                "Exports: the table's rows, counted when the export was asked for (up to"
                    + " tsm.export.exact-count-limit rows) or PostgreSQL's estimate; exact once"
                    + " COMPLETED. Imports: null")
        Long rowsTotal,
    @Schema(example = "42.5") double percent,
    @Schema(description = "Rows a second over the current (or last) run") double rowsPerSecond,
    @Schema(nullable = true, description = "Seconds left at the current rate; null when unknown")
        Long etaSeconds,
    @Schema(nullable = true, description = "Why the task FAILED; null otherwise") String error,
    @Schema(
            description =
                "The commands the task accepts now (POST /tasks/{id}/pause, resume, terminate)",
            example = "[\"pause\", \"terminate\"]")
        List<String> actions,
    @Schema(
            nullable = true,
            description =
                "The subject of the caller the task belongs to (null for tasks made before owners)",
            example = "alice")
        String createdBy,
    @Schema(
            nullable = true,
            description = "The last pause, resume or terminate, and who gave it; null if none")
        Command lastCommand,
    @Schema(
            nullable = true,
            description =
                "Imports fed by a resumable upload (/uploads): what has arrived beside what is"
                    + " loaded; null otherwise")
        UploadView upload,
    @Schema(
            nullable = true,
            description =
                "The URL the task calls back when it ends and its deliveries, one per final state"
                    + " entered; null when the task has none")
        CallbackView callback,
    OffsetDateTime createdAt,
    OffsetDateTime updatedAt,
    @Schema(nullable = true, description = "When the task entered its final state; null before")
        OffsetDateTime finishedAt) {

  /** A command a caller gave the task. */
  @Schema(name = "TaskCommand")
  public record Command(
      @Schema(
              example = "pause",
              enumeration = {"pause", "resume", "terminate"})
          String name,
      @Schema(example = "alice") String by,
      OffsetDateTime at) {}

  /** The resumable upload that feeds an import. */
  @Schema(name = "TaskUpload")
  public record UploadView(
      @Schema(description = "The upload, at /uploads/{id}") String id,
      @Schema(description = "Bytes received so far, as sent (compressed ones for a gzip file)")
          long bytesReceived,
      @Schema(nullable = true, description = "The declared length; null while deferred")
          Long bytesTotal,
      @Schema(description = "Whether every byte arrived") boolean complete,
      @Schema(
              description =
                  "The import loaded everything that arrived and waits for more (it holds no"
                      + " resources meanwhile)")
          boolean waiting,
      @Schema(
              nullable = true,
              description = "When the upload expires unless more bytes arrive; null once complete")
          OffsetDateTime expiresAt) {
    static UploadView of(Task.Upload u) {
      return u == null
          ? null
          : new UploadView(
              u.id().toString(),
              u.received(),
              u.length(),
              u.complete(),
              u.parkedAt() != null && u.plain() <= u.parkedAt() && !u.complete(),
              u.complete() ? null : u.expiresAt());
    }
  }

  /** Where the task's end is POSTed, and how each delivery went. */
  @Schema(name = "TaskCallback")
  public record CallbackView(
      @Schema(example = "https://example.com/hooks/tsm") String url,
      @Schema(nullable = true, description = "Oldest first; null in a callback's own body")
          List<Task.Delivery> deliveries) {
    static CallbackView of(Task.Callback c) {
      return c == null ? null : new CallbackView(c.url(), c.deliveries());
    }
  }

  /** How long a run goes on before its rate means something. */
  static final double MIN_RATE_SECONDS = 1.0;

  public static TaskView of(Task t) {
    long rows = t.checkpoint().rowsDone();
    long bytes = t.checkpoint().bytesDone();
    double seconds = runSeconds(t);
    double rowsPerSecond = 0;
    Long eta = null;
    // The first instants of a run measure one short batch: no rate before a second of it.
    boolean measured = t.state() == TaskState.RUNNING ? seconds >= MIN_RATE_SECONDS : seconds > 0;
    if (measured && t.runRowsStart() != null) {
      rowsPerSecond = Math.round((rows - t.runRowsStart()) / seconds * 10) / 10.0;
      if (t.state() == TaskState.RUNNING) {
        eta = eta(t, seconds);
      }
    }
    if (t.state() == TaskState.COMPLETED) {
      eta = 0L;
    }
    return new TaskView(
        t.id().toString(),
        t.kind(),
        t.state(),
        t.requestedState(),
        t.schema() + "." + t.table(),
        options(t),
        rows,
        t.checkpoint().rowsSkipped(),
        bytes,
        t.bytesTotal(),
        t.rowsTotal(),
        percent(t),
        rowsPerSecond,
        eta,
        t.error(),
        TaskAction.allowed(t.state(), t.requestedState()).stream()
            .map(a -> a.name().toLowerCase())
            .toList(),
        t.createdBy(),
        t.lastCommand() == null
            ? null
            : new Command(t.lastCommand().name(), t.lastCommand().by(), t.lastCommand().at()),
        UploadView.of(t.upload()),
        CallbackView.of(t.callback()),
        t.createdAt(),
        t.updatedAt(),
        t.finishedAt());
  }

  /**
   * The task's options; an export's always name its compression (older ones have none). The
   * callback URL is shown apart, in {@code callback}.
   */
  private static Map<String, Object> options(Task t) {
    Map<String, Object> options = new LinkedHashMap<>(t.options().getMap());
    if (t.kind() == TaskKind.EXPORT && !options.containsKey("compression")) {
      options.put("compression", Compression.NONE.value());
    }
    options.remove(CallbackUrl.OPTION);
    return options;
  }

  /** Imports measure by bytes of the file, exports by rows of the table (counted or estimated). */
  private static double percent(Task t) {
    if (t.state() == TaskState.COMPLETED) {
      return 100;
    }
    boolean byBytes = t.kind() == TaskKind.IMPORT;
    Long total = byBytes ? t.bytesTotal() : t.rowsTotal();
    long done = byBytes ? t.checkpoint().bytesDone() : t.checkpoint().rowsDone();
    if (total == null || total <= 0) {
      return 0;
    }
    // Rows added to a table during its export can take it past its count: never show 100 early.
    return Math.min(99.9, Math.floor(done * 1000.0 / total) / 10.0);
  }

  private static Long eta(Task t, double seconds) {
    boolean byBytes = t.kind() == TaskKind.IMPORT;
    Long total = byBytes ? t.bytesTotal() : t.rowsTotal();
    long done = byBytes ? t.checkpoint().bytesDone() : t.checkpoint().rowsDone();
    Long start = byBytes ? t.runBytesStart() : t.runRowsStart();
    if (total == null || start == null) {
      return null;
    }
    double rate = (done - start) / seconds;
    return rate > 0 ? (long) Math.ceil(Math.max(0, total - done) / rate) : null;
  }

  /** Length of the current run up to its last checkpoint, or of the finished run. */
  private static double runSeconds(Task t) {
    if (t.runStartedAt() == null) {
      return 0;
    }
    OffsetDateTime end =
        switch (t.state()) {
          case RUNNING -> t.updatedAt();
          case COMPLETED -> t.finishedAt();
          default -> null;
        };
    return end == null ? 0 : Duration.between(t.runStartedAt(), end).toMillis() / 1000.0;
  }
}
