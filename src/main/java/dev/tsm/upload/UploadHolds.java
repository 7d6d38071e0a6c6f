package dev.tsm.upload;

import dev.tsm.Config;
import dev.tsm.csv.Growth;
import dev.tsm.db.Transactions;
import dev.tsm.task.Task;
import dev.tsm.task.TaskStore;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The uploads this instance is receiving for tasks that already run. The database says which
 * instance receives a task's file (and for how long it holds it, renewed here); only that instance
 * can follow the growing file, through the {@link Upload} it keeps here.
 */
@ApplicationScoped
public class UploadHolds {
  private static final Logger LOG = Logger.getLogger(UploadHolds.class);

  private final Map<UUID, Upload> receiving = new ConcurrentHashMap<>();
  private final TaskStore store;
  private final Transactions transactions;
  private final Config config;
  private volatile String instance;

  UploadHolds(TaskStore store, Transactions transactions, Config config) {
    this.store = store;
    this.transactions = transactions;
    this.config = config;
  }

  public void add(UUID taskId, Upload upload, String instance) {
    this.instance = instance;
    receiving.put(taskId, upload);
  }

  public void remove(UUID taskId) {
    receiving.remove(taskId);
  }

  /**
   * How much of a task's file can be read. Blocking (it may ask the database): call on a worker.
   *
   * @throws IllegalStateException when the file is still marked as arriving at an instance that no
   *     longer receives it: it will never be complete
   */
  public Growth of(Task task) {
    if (!task.held()) {
      return Growth.WHOLE;
    }
    Upload upload = receiving.get(task.id());
    if (upload != null) {
      return upload;
    }
    // The row may predate the end of the upload: ask again.
    if (stillUploading(task.id())) {
      throw new IllegalStateException(
          "the upload of this file did not complete (the instance receiving it stopped or lost"
              + " it): terminate the task and upload the file again");
    }
    return Growth.WHOLE;
  }

  private boolean stillUploading(UUID id) {
    return transactions.withConnection(c -> store.held(c, id));
  }

  /** Holds on to the uploads in progress, so that no other replica takes them for lost. */
  @Scheduled(
      every = "${tsm.runner.poll-interval}",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  Uni<Void> renew() {
    List<UUID> ids = List.copyOf(receiving.keySet());
    if (ids.isEmpty() || instance == null) {
      return Uni.createFrom().voidItem();
    }
    return store
        .renewHolds(ids, instance, config.runner().lease())
        .onFailure()
        .invoke(e -> LOG.warnf("could not renew the hold on uploads: %s", e.getMessage()))
        .onFailure()
        .recoverWithNull()
        .replaceWithVoid();
  }
}
