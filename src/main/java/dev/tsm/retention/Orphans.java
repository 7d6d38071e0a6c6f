package dev.tsm.retention;

import dev.tsm.Config;
import dev.tsm.csv.StoredFiles;
import dev.tsm.db.DatabaseException;
import dev.tsm.db.Sql;
import dev.tsm.db.Transactions;
import dev.tsm.importing.ImportJob;
import dev.tsm.task.Task;
import dev.tsm.task.TaskLog;
import dev.tsm.task.TaskState;
import dev.tsm.task.TaskStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * What a crash leaves behind with no task to answer for it: task files in the store and staging
 * tables in {@code tsm}. A live task (PENDING, RUNNING, PAUSED, FAILED) keeps everything it has.
 *
 * <p>A body is staged before its task row exists, so a file is judged only once nothing wrote to it
 * for {@code tsm.retention.orphan-grace}, well above any upload's idle deadline. A staging table is
 * created in the same transaction as its task row: one without a live task is never about to get
 * one.
 */
@ApplicationScoped
class Orphans {
  private static final Logger LOG = Logger.getLogger(Orphans.class);
  private static final int CHUNK = 500;
  private static final Duration DB_WAIT = Duration.ofSeconds(30);

  private final StoredFiles stored;
  private final TaskStore store;
  private final Transactions transactions;
  private final Config config;

  Orphans(StoredFiles stored, TaskStore store, Transactions transactions, Config config) {
    this.stored = stored;
    this.store = store;
    this.transactions = transactions;
    this.config = config;
  }

  /** Deletes orphan task files. Blocking: call on a worker thread. Returns how many. */
  int files() {
    Instant before = Instant.now().minus(config.retention().orphanGrace());
    int[] deleted = {0};
    try {
      stored.olderThan(before, CHUNK, chunk -> deleted[0] += files(chunk));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the file store: " + e.getMessage(), e);
    }
    return deleted[0];
  }

  private int files(List<StoredFiles.TaskFile> chunk) {
    List<UUID> ids = chunk.stream().map(StoredFiles.TaskFile::taskId).distinct().toList();
    Map<UUID, Task> tasks =
        store.findAll(ids).await().atMost(DB_WAIT).stream()
            .collect(Collectors.toMap(Task::id, Function.identity()));
    int deleted = 0;
    for (StoredFiles.TaskFile file : chunk) {
      Task task = tasks.get(file.taskId());
      if (!orphan(file, task)) {
        continue;
      }
      try {
        if (stored.delete(file)) {
          deleted++;
          TaskLog.info(
              LOG,
              file.taskId(),
              "removed %s, left by %s",
              file.path(),
              task == null
                  ? "a task that does not exist"
                  : "task " + task.id() + ", " + task.state());
        }
      } catch (IOException e) {
        LOG.warnf("could not remove the orphan file %s: %s", file.path(), e.getMessage());
      }
    }
    return deleted;
  }

  /** Whether no task needs this file any more. */
  static boolean orphan(StoredFiles.TaskFile file, Task task) {
    if (task == null) {
      return true;
    }
    TaskState state = task.state();
    return switch (file.kind()) {
      // Completion and terminate delete these after their commit; a crash may come in between.
      case IMPORT, EXPORT_PART -> state.isFinal();
      // A completed export keeps its file for downloads until it expires.
      case EXPORT ->
          state == TaskState.TERMINATED
              || (state == TaskState.COMPLETED && task.fileExpiredAt() != null);
    };
  }

  /** Drops staging tables that no live task holds. Blocking. Returns how many. */
  int stagingTables() {
    List<String> tables =
        transactions.withConnection(
            c -> store.stagingTablesOfNoLiveTask(c, ImportJob.STAGING_PREFIX, CHUNK));
    int dropped = 0;
    for (String table : tables) {
      try {
        if (drop(table)) {
          dropped++;
          LOG.infof("dropped the staging table tsm.%s: no live task holds it", table);
        }
      } catch (DatabaseException e) {
        LOG.warnf("could not drop the staging table tsm.%s: %s", table, e.getMessage());
      }
    }
    return dropped;
  }

  /**
   * Drops one staging table once it is locked and still held by no live task. Waits for the lock at
   * most a lease: a session still holding it is a batch that cannot commit, left for next time.
   */
  private boolean drop(String table) {
    String qualified = "tsm." + Sql.ident(table);
    return transactions.inTransaction(
        c -> {
          Sql.execute(c, "SET LOCAL lock_timeout = " + config.runner().lease().toMillis());
          Sql.execute(c, "LOCK TABLE " + qualified + " IN ACCESS EXCLUSIVE MODE");
          if (store.stagingTableHeld(c, table)) {
            return false;
          }
          Sql.execute(c, "DROP TABLE " + qualified);
          return true;
        });
  }
}
