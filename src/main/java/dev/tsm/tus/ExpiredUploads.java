package dev.tsm.tus;

import dev.tsm.Config;
import dev.tsm.csv.FileStore;
import dev.tsm.db.Transactions;
import dev.tsm.task.TaskLog;
import dev.tsm.task.TaskService;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Unfinished uploads that received nothing for {@code tsm.upload.expiry}: each is marked EXPIRED
 * (410 from then on), its import terminated with the reason, its bytes deleted. A part of the
 * retention sweep (one replica at a time, every {@code tsm.retention.sweep-interval}).
 */
@ApplicationScoped
public class ExpiredUploads {
  private static final Logger LOG = Logger.getLogger(ExpiredUploads.class);
  private static final int CHUNK = 50;

  private final Transactions transactions;
  private final TaskService tasks;
  private final FileStore files;
  private final Config config;
  private final Decoders decoders;

  ExpiredUploads(
      Transactions transactions,
      TaskService tasks,
      FileStore files,
      Config config,
      Decoders decoders) {
    this.transactions = transactions;
    this.tasks = tasks;
    this.files = files;
    this.config = config;
    this.decoders = decoders;
  }

  /** Expires what is due; returns how many. Blocking. */
  public int sweep() {
    List<UploadRow> expired =
        transactions.inTransaction(
            c -> {
              List<UploadRow> due = UploadStore.expired(c, CHUNK);
              for (UploadRow u : due) {
                UploadStore.end(c, u.taskId(), UploadRow.EXPIRED);
              }
              return due;
            });
    String reason =
        "the upload expired: nothing arrived for "
            + config.upload().expiry().toString().substring(2).toLowerCase()
            + " (tsm.upload.expiry)";
    for (UploadRow u : expired) {
      TaskLog.info(LOG, u.taskId(), "task %s: upload %s expired", u.taskId(), u.id());
      try {
        tasks.terminate(u.taskId(), reason).await().atMost(Duration.ofSeconds(30));
      } catch (RuntimeException e) {
        LOG.warnf("task %s: could not terminate after its upload expired: %s", u.taskId(), e);
      }
      files.delete(files.importUpload(u.taskId()));
      decoders.forget(u.id());
    }
    return expired.size();
  }
}
