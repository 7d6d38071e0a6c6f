package dev.tsm.importing;

import dev.tsm.Config;
import dev.tsm.buffers.ArrayPool;
import dev.tsm.csv.CsvLimits;
import dev.tsm.csv.FileStore;
import dev.tsm.csv.Growth;
import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import dev.tsm.db.Transactions;
import dev.tsm.task.Committed;
import dev.tsm.task.InOrder;
import dev.tsm.task.Job;
import dev.tsm.task.Task;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskMetrics;
import dev.tsm.task.TaskState;
import dev.tsm.task.TaskStore;
import dev.tsm.task.WaitingForInput;
import dev.tsm.upload.ResumableGrowth;
import dev.tsm.upload.UploadHolds;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * A CSV file into a table: the staged file, read from the checkpoint's byte offset, goes batch by
 * batch into the task's staging table; completion publishes the staging table in one transaction.
 */
@ApplicationScoped
public class ImportJob implements Job {
  private static final Logger LOG = Logger.getLogger(ImportJob.class);
  private static final String LOCK_NOT_AVAILABLE = "55P03";
  private final Config config;
  private final FileStore files;
  private final CopyBatchWriter writer;
  private final Rejects rejects;
  private final TaskMetrics metrics;
  private final UploadHolds uploads;
  private final Transactions transactions;

  /** Staging tables are named {@code tsm.import_<task id without dashes>}. */
  public static final String STAGING_PREFIX = "import_";

  ImportJob(
      Config config,
      FileStore files,
      Transactions transactions,
      TaskStore store,
      Rejects rejects,
      TaskMetrics metrics,
      UploadHolds uploads) {
    this.config = config;
    this.files = files;
    this.rejects = rejects;
    this.writer = new CopyBatchWriter(transactions, store, rejects);
    this.metrics = metrics;
    this.uploads = uploads;
    this.transactions = transactions;
  }

  @Override
  public TaskKind kind() {
    return TaskKind.IMPORT;
  }

  @Override
  public Multi<Committed> run(Task task, String owner) {
    ImportSpec spec = ImportSpec.of(task);
    CopyBatchWriter.Target target =
        new CopyBatchWriter.Target(
            task.id(),
            owner,
            spec.copySql(),
            spec.options(),
            config.runner().lease().toMillis(),
            config.importing().maxStoredRejects());
    // Up to `parallelism` batches are copied side by side, each on its own connection; one more
    // is being read, and merge may ask for one ahead.
    int parallelism = config.importing().parallelism();
    ArrayPool buffers = BatchReader.arrays(batchBytes(), parallelism + 2);
    return InOrder.commit(
        batches(task, spec, buffers),
        task.checkpoint(),
        parallelism,
        config.runner().throttle(),
        (batch, before, stop) -> {
          try {
            return metrics.batch(TaskKind.IMPORT, () -> writer.write(target, batch, before, stop));
          } finally {
            buffers.give(batch.data());
          }
        });
  }

  /** Batches pulled from the file on demand: the next one is read only when asked for. */
  private Multi<Batch> batches(Task task, ImportSpec spec, ArrayPool buffers) {
    AtomicReference<BatchReader> opened = new AtomicReference<>();
    AtomicReference<Growth> growth = new AtomicReference<>();
    long waitNanos = config.upload().waitInRun().toNanos();
    return Multi.createFrom()
        .resource(
            () -> {
              // Here, not before: a file that can never be read whole fails the stream (FAILED).
              growth.set(growth(task));
              opened.set(open(task, spec, growth.get(), buffers));
              return opened.get();
            },
            reader -> generate(reader, growth.get(), waitNanos))
        .withFinalizer(ImportJob::close)
        .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
        .onCancellation()
        .invoke(
            () -> {
              // A reader waiting for an upload to grow lets go of its thread at once.
              BatchReader reader = opened.get();
              if (reader != null) {
                reader.cancel();
              }
            });
  }

  /**
   * How much of the file can be read: all of it, the part an upload to this instance has written,
   * or the part of a resumable upload the database says has arrived.
   */
  private Growth growth(Task task) {
    return task.upload() != null
        ? new ResumableGrowth(transactions, task.upload().id())
        : uploads.of(task);
  }

  private static Multi<Batch> generate(BatchReader reader, Growth growth, long waitNanos) {
    return Multi.createFrom()
        .generator(
            () -> reader,
            (r, emitter) -> {
              try {
                Batch batch = r.next();
                if (batch == null) {
                  emitter.complete();
                } else if (batch.rows() == 0
                    && batch.rejects().isEmpty()
                    && growth instanceof ResumableGrowth upload
                    && !upload.complete()
                    && upload.quietNanos() >= waitNanos) {
                  // Everything that arrived is loaded and the client went quiet: wait without
                  // a thread, a connection or a buffer, until more bytes arrive.
                  emitter.fail(new WaitingForInput(upload.readable()));
                } else {
                  emitter.emit(batch);
                }
              } catch (IOException e) {
                emitter.fail(new UncheckedIOException("cannot read the staged file", e));
              }
              return r;
            });
  }

  private BatchReader open(Task task, ImportSpec spec, Growth growth, ArrayPool buffers) {
    Path file = files.importFile(task.id());
    try {
      return new BatchReader(
          file,
          growth,
          task.checkpoint().bytesDone(),
          task.checkpoint().line(),
          spec.options().dialect(),
          limits(config),
          spec.plan().columns().size(),
          config.importing().batchRows(),
          batchBytes(),
          buffers,
          spec.options().onError() == ImportOptions.OnError.FAIL);
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("the staged file of this import is gone: " + file, e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the staged file " + file, e);
    }
  }

  private int batchBytes() {
    return (int) config.importing().batchBytes().asLongValue();
  }

  private static void close(BatchReader reader) {
    try {
      reader.close();
    } catch (IOException ignored) {
      // Read-only file: nothing to lose.
    }
  }

  static CsvLimits limits(Config config) {
    return new CsvLimits(
        (int) config.importing().maxFieldSize().asLongValue(),
        (int) config.importing().maxRecordSize().asLongValue(),
        config.importing().maxColumns());
  }

  /**
   * Waits for batches still in flight (a stop does not wait for them) by taking the staging table
   * before the task row: locking in this order cannot deadlock with a batch's commit.
   *
   * <p>A batch of an earlier run whose owner lost the task (a process frozen past its lease) can
   * never commit, its checkpoint being fenced, but its open transaction holds the staging table for
   * as long as the process stays frozen. So the wait lasts at most a lease; then the sessions still
   * holding the table are ended and the lock taken.
   */
  @Override
  public void lock(Connection c, Task task) throws SQLException {
    ImportSpec spec = ImportSpec.of(task);
    if (spec.stagingTable() == null
        || !Sql.tableExists(c, new TableName("tsm", spec.stagingTable()))) {
      return;
    }
    String table = spec.staging();
    String lock = "LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE";
    Savepoint waiting = c.setSavepoint();
    try {
      Sql.execute(c, "SET LOCAL lock_timeout = " + config.runner().lease().toMillis());
      Sql.execute(c, lock);
      Sql.execute(c, "SET LOCAL lock_timeout = DEFAULT");
      c.releaseSavepoint(waiting);
      return;
    } catch (SQLException e) {
      if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
        throw e;
      }
      c.rollback(waiting); // also undoes the SET LOCAL
    }
    long ended =
        Sql.queryLong(
            c,
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM (SELECT DISTINCT pid"
                + " FROM pg_locks WHERE relation = "
                + Sql.literal(table)
                + "::regclass AND granted AND pid <> pg_backend_pid()) holders",
            0);
    LOG.warnf(
        "task %s: its staging table was still held after a lease (a batch of a run that lost the"
            + " task); ended %d database session(s) holding it",
        task.id(), ended);
    Sql.execute(c, lock);
  }

  @Override
  public void publish(Connection c, Task task) throws SQLException {
    ImportSpec spec = ImportSpec.of(task);
    TableName target = spec.target();
    if (spec.options().mode() == ImportOptions.Mode.CREATE) {
      if (Sql.tableExists(c, target)) {
        throw new IllegalStateException(
            "table "
                + target
                + " was created by someone else while the import ran; drop or rename it, then"
                + " resume the task");
      }
      Sql.execute(c, "ALTER TABLE " + spec.staging() + " SET SCHEMA " + Sql.ident(target.schema()));
      Sql.execute(
          c,
          "ALTER TABLE "
              + Sql.ident(target.schema())
              + "."
              + Sql.ident(spec.stagingTable())
              + " RENAME TO "
              + Sql.ident(target.name()));
    } else {
      LoadModes.publishInto(c, spec);
    }
  }

  @Override
  public void discard(Connection c, Task task) throws SQLException {
    if (task.stagingTable() != null) { // null: a resumable upload whose first rows never came
      Sql.execute(c, "DROP TABLE IF EXISTS " + ImportSpec.of(task).staging());
    }
    rejects.delete(c, task.id());
    if (task.upload() != null) {
      try (var ps =
          c.prepareStatement(
              "UPDATE tsm.upload SET ended = 'TERMINATED', writer = NULL, updated_at = now()"
                  + " WHERE task_id = ? AND ended IS NULL")) {
        ps.setObject(1, task.id());
        ps.executeUpdate();
      }
    }
  }

  @Override
  public void cleanFiles(Task task, TaskState state) {
    files.delete(files.importFile(task.id()));
    files.delete(files.importUpload(task.id()));
  }
}
