package dev.tsm.retention;

import dev.tsm.Config;
import dev.tsm.csv.FileStore;
import dev.tsm.task.Task;
import dev.tsm.task.TaskLog;
import dev.tsm.task.TaskStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Deletes the files of exports completed longer than {@code tsm.retention.export-files} ago. The
 * task stays COMPLETED and records when its file expired (its download answers 410 from then on);
 * the record is committed before the file goes, so a crash in between leaves a file the orphan
 * sweep removes, never a task that points at nothing without saying so.
 */
@ApplicationScoped
class ExpiredExports {
  private static final Logger LOG = Logger.getLogger(ExpiredExports.class);
  private static final int CHUNK = 200;
  private static final Duration DB_WAIT = Duration.ofSeconds(30);

  private final TaskStore store;
  private final FileStore files;
  private final Config config;

  ExpiredExports(TaskStore store, FileStore files, Config config) {
    this.store = store;
    this.files = files;
    this.config = config;
  }

  /** Blocking: call on a worker thread. Returns how many files expired. */
  int sweep() {
    Duration age = config.retention().exportFiles();
    int expired = 0;
    List<Task> chunk;
    do {
      chunk = store.expireExportFiles(age, CHUNK).await().atMost(DB_WAIT);
      for (Task task : chunk) {
        files.delete(files.exportFile(task.id()));
        TaskLog.info(
            LOG,
            task.id(),
            "task %s: its export file expired (completed more than %s ago) and was deleted",
            task.id(),
            Wording.duration(age));
      }
      expired += chunk.size();
    } while (chunk.size() == CHUNK);
    return expired;
  }
}
