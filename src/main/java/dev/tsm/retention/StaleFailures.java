package dev.tsm.retention;

import dev.tsm.Config;
import dev.tsm.task.Task;
import dev.tsm.task.TaskEnds;
import dev.tsm.task.TaskLog;
import dev.tsm.task.TaskStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Terminates tasks FAILED longer than {@code tsm.retention.failed-tasks} ago without a resume,
 * through the terminate path every terminate takes (staging table dropped, staged or partial file
 * deleted), with the reason as the task's error. A task resumed meanwhile is left alone.
 */
@ApplicationScoped
class StaleFailures {
  private static final Logger LOG = Logger.getLogger(StaleFailures.class);
  private static final int CHUNK = 100;
  private static final Duration DB_WAIT = Duration.ofSeconds(30);

  private final TaskStore store;
  private final TaskEnds ends;
  private final Config config;

  StaleFailures(TaskStore store, TaskEnds ends, Config config) {
    this.store = store;
    this.ends = ends;
    this.config = config;
  }

  /** Blocking: call on a worker thread. Returns how many tasks were terminated. */
  int sweep() {
    Duration age = config.retention().failedTasks();
    int terminated = 0;
    List<Task> chunk;
    int done;
    do {
      chunk = store.failedBefore(age, CHUNK).await().atMost(DB_WAIT);
      done = 0;
      for (Task task : chunk) {
        if (ends.terminateFailed(task, reason(task, age))) {
          done++;
          TaskLog.info(
              LOG,
              task.id(),
              "task %s: FAILED for over %s, terminated",
              task.id(),
              Wording.duration(age));
        }
      }
      terminated += done;
      // A full chunk none of which could be terminated would come back the same: stop there.
    } while (chunk.size() == CHUNK && done > 0);
    return terminated;
  }

  static String reason(Task task, Duration age) {
    return "terminated after "
        + Wording.duration(age)
        + " FAILED without a resume (tsm.retention.failed-tasks): its staging table and files were"
        + " removed; it had failed with: "
        + task.error();
  }
}
