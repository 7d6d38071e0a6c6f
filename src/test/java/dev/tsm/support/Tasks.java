package dev.tsm.support;

import dev.tsm.task.Checkpoint;
import dev.tsm.task.Task;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.UUID;

/** Task rows for tests of the logic above the store, without a database. */
public final class Tasks {
  private Tasks() {}

  /**
   * A task of {@code kind} in {@code state} at {@code checkpoint}, its run started {@code
   * runSeconds} before its last change, that run having begun at row and byte 0.
   */
  public static Task of(
      TaskKind kind,
      TaskState state,
      TaskState requested,
      Checkpoint checkpoint,
      Long bytesTotal,
      Long rowsTotal,
      double runSeconds) {
    OffsetDateTime updated = OffsetDateTime.parse("2026-12-01T12:00:00Z");
    OffsetDateTime started = updated.minusNanos((long) (runSeconds * 1e9));
    return new Task(
        UUID.randomUUID(),
        kind,
        state,
        requested,
        "public",
        "t",
        new JsonObject().put("mode", "create"),
        new JsonArray(),
        null,
        null,
        null,
        bytesTotal,
        rowsTotal,
        checkpoint,
        null,
        state == TaskState.RUNNING ? "me/1" : null,
        started,
        0L,
        0L,
        started,
        updated,
        state.isFinal() ? updated : null,
        null,
        null,
        null,
        "alice",
        null,
        null,
        null,
        1);
  }

  /** A RUNNING import at its start, with {@code requested} pending (or null). */
  public static Task running(TaskState requested) {
    return of(
        TaskKind.IMPORT,
        TaskState.RUNNING,
        requested,
        new Checkpoint(0, 0, 0, 1, null),
        null,
        null,
        0);
  }
}
