package dev.tsm.exporting;

import dev.tsm.Config;
import dev.tsm.csv.FileStore;
import dev.tsm.db.DatabaseException;
import dev.tsm.db.Transactions;
import dev.tsm.task.Checkpoint;
import dev.tsm.task.Committed;
import dev.tsm.task.InOrder;
import dev.tsm.task.Job;
import dev.tsm.task.Task;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskMetrics;
import dev.tsm.task.TaskState;
import dev.tsm.task.TaskStore;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.PGConnection;

/**
 * A table into a CSV file: keyset pages, each written by PostgreSQL's own CSV encoder (COPY TO) to
 * the task's {@code .part} file, synced, then acknowledged by a checkpoint holding the file's
 * length and the last key. Resume cuts the file back to the checkpoint's length and continues after
 * its key; completion renames the file into place.
 */
@ApplicationScoped
public class ExportJob implements Job {
  private static final int WRITE_BUFFER = 1 << 20;

  private final Config config;
  private final FileStore files;
  private final Transactions transactions;
  private final TaskStore store;
  private final TaskMetrics metrics;

  ExportJob(
      Config config,
      FileStore files,
      Transactions transactions,
      TaskStore store,
      TaskMetrics metrics) {
    this.config = config;
    this.files = files;
    this.transactions = transactions;
    this.store = store;
    this.metrics = metrics;
  }

  @Override
  public TaskKind kind() {
    return TaskKind.EXPORT;
  }

  @Override
  public Multi<Committed> run(Task task, String owner) {
    ExportPlan plan = ExportPlan.of(task);
    return Multi.createFrom()
        .resource(() -> open(task), out -> pages(task, owner, plan, out))
        .withFinalizer(ExportJob::close)
        .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
  }

  /**
   * Pages found one after the other (each from the bounds of the one before), written to the file
   * in their order: one at a time, since they share the file.
   */
  private Multi<Committed> pages(Task task, String owner, ExportPlan plan, FileChannel out) {
    Multi<Pager.Page> pages =
        Multi.createFrom()
            .generator(
                () -> Pager.Cursor.at(task.checkpoint()),
                (cursor, emitter) -> {
                  try {
                    Pager.Page page =
                        transactions.withConnection(
                            c -> Pager.next(c, plan, cursor, config.export().batchRows()));
                    if (page == null) {
                      emitter.complete();
                      return cursor;
                    }
                    emitter.emit(page);
                    return page.after();
                  } catch (DatabaseException e) {
                    emitter.fail(e);
                    return cursor;
                  }
                });
    return InOrder.commit(
        pages,
        task.checkpoint(),
        1,
        config.runner().throttle(),
        (page, before) ->
            metrics.batch(
                TaskKind.EXPORT,
                () -> writePage(task, owner, plan, out, page, InOrder.committedBefore(before))));
  }

  /** One page: COPY TO the file, sync it, then commit the checkpoint that says so. */
  private Committed writePage(
      Task task,
      String owner,
      ExportPlan plan,
      FileChannel out,
      Pager.Page page,
      Checkpoint before) {
    return transactions.inTransaction(
        c -> {
          Transactions.boundIdle(c, config.runner().lease().multipliedBy(2));
          long rows;
          try {
            OutputStream stream =
                new BufferedOutputStream(Channels.newOutputStream(out), WRITE_BUFFER);
            rows =
                c.unwrap(PGConnection.class)
                    .getCopyAPI()
                    .copyOut(plan.copySql(page.condition(), page.headerOnly()), stream);
            stream.flush();
            out.force(false);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
          }
          Checkpoint next =
              new Checkpoint(
                  before.rowsDone() + (page.headerOnly() ? 0 : rows),
                  0,
                  position(out),
                  0,
                  page.lastKey());
          TaskState requested =
              store.saveCheckpoint(c, task.id(), owner, next, config.runner().lease().toMillis());
          return new Committed(next, requested);
        });
  }

  private static long position(FileChannel out) {
    try {
      return out.position();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
    }
  }

  private FileChannel open(Task task) {
    try {
      return files.openExport(task.id(), task.checkpoint().bytesDone());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the export file: " + e.getMessage(), e);
    }
  }

  private static void close(FileChannel out) {
    try {
      out.close();
    } catch (IOException ignored) {
      // Every byte that counts was synced before its checkpoint.
    }
  }

  @Override
  public void publish(Connection c, Task task) throws SQLException {
    try {
      files.publishExport(task.id());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish the export file: " + e.getMessage(), e);
    }
  }

  @Override
  public void discard(Connection c, Task task) {
    // An export changes nothing in the database: only its file is removed.
  }

  @Override
  public void cleanFiles(Task task, TaskState state) {
    if (state == TaskState.TERMINATED) {
      files.delete(files.exportPart(task.id()));
      files.delete(files.exportFile(task.id()));
    }
  }
}
