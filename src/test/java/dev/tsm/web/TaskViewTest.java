package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tsm.support.Tasks;
import dev.tsm.task.Checkpoint;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a client reads of a task's progress: percent, rate, ETA and the commands it accepts. */
class TaskViewTest {

  @Test
  void anImportMeasuresByBytesOfItsFile() {
    TaskView v = runningImport(2.0);
    assertEquals(25.0, v.percent());
    assertEquals(20_000.0, v.rowsPerSecond());
    assertEquals(6L, v.etaSeconds(), "75 MB left at 12.5 MB/s");
    assertEquals(List.of("pause", "terminate"), v.actions());
  }

  @Test
  void aRunOfLessThanASecondHasNoRateYet() {
    // right after a resume: one short batch in 0.02 s would read as 2,000,000 rows/s
    TaskView v = runningImport(0.02);
    assertEquals(0.0, v.rowsPerSecond());
    assertNull(v.etaSeconds());
  }

  @Test
  void anExportMeasuresByRowsAndNeverShowsAHundredEarly() {
    TaskView v =
        TaskView.of(
            Tasks.of(
                TaskKind.EXPORT,
                TaskState.RUNNING,
                null,
                new Checkpoint(1_050, 0, 90_000, 0, "[\"1050\"]"),
                null,
                1_000L,
                1.0));
    assertEquals(99.9, v.percent(), "rows added during the export take it past its count");
    assertEquals(0L, v.etaSeconds());
  }

  @Test
  void aCompletedTaskIsWholeAndAPausedOneHasNoEta() {
    Checkpoint done = new Checkpoint(500, 3, 10_000, 504, null);
    TaskView completed =
        TaskView.of(Tasks.of(TaskKind.IMPORT, TaskState.COMPLETED, null, done, 10_000L, null, 5.0));
    assertEquals(100.0, completed.percent());
    assertEquals(0L, completed.etaSeconds());
    assertEquals(List.of(), completed.actions());
    assertEquals(3, completed.rowsSkipped());
    TaskView paused =
        TaskView.of(Tasks.of(TaskKind.IMPORT, TaskState.PAUSED, null, done, null, null, 5.0));
    assertNull(paused.etaSeconds());
    assertEquals(0.0, paused.percent(), "no total known: no percent");
    assertEquals(List.of("resume", "terminate"), paused.actions());
  }

  @Test
  void aPauseUnderWayCanBeWithdrawnOrOvertaken() {
    TaskView v = TaskView.of(Tasks.running(TaskState.PAUSED));
    assertEquals(TaskState.PAUSED, v.requestedState());
    assertEquals(List.of("resume", "terminate"), v.actions());
  }

  /** An import 40,000 rows and 25 MB of 100 MB in, its run begun {@code seconds} ago. */
  private static TaskView runningImport(double seconds) {
    return TaskView.of(
        Tasks.of(
            TaskKind.IMPORT,
            TaskState.RUNNING,
            null,
            new Checkpoint(40_000, 0, 25_000_000, 40_001, null),
            100_000_000L,
            null,
            seconds));
  }
}
