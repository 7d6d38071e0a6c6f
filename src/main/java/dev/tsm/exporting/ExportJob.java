package dev.tsm.exporting;

import dev.tsm.Config;
import dev.tsm.csv.FileStore;
import dev.tsm.db.DatabaseException;
import dev.tsm.db.Transactions;
import dev.tsm.task.Checkpoint;
import dev.tsm.task.Committed;
import dev.tsm.task.InOrder;
import dev.tsm.task.Job;
import dev.tsm.task.RunStop;
import dev.tsm.task.Task;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskMetrics;
import dev.tsm.task.TaskState;
import dev.tsm.task.TaskStore;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;

/**
 * A table into a CSV file: keyset pages, each written by PostgreSQL's own CSV encoder (COPY TO) to
 * a page file of its own (as one complete gzip member, if compressed), side by side with the next
 * page; then, in page order, appended to the task's {@code .part} file, synced, and acknowledged by
 * a checkpoint holding the file's length and the page's last key. Resume cuts the file back to the
 * checkpoint's length (a member boundary) and continues after its key; completion renames the file
 * into place.
 */
@ApplicationScoped
public class ExportJob implements Job {
  /** The append of a page goes in pieces this large, each after a look at the run's stop. */
  private static final long APPEND_PIECE = 1 << 20;

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
   * Pages found one after the other (each from the bounds of the one before), copied side by side
   * into page files, appended to the export's file in their order.
   */
  private Multi<Committed> pages(Task task, String owner, ExportPlan plan, FileChannel out) {
    // The checkpoint's bytes are the file's: bytes of CSV only when it is not compressed.
    Checkpoint start = task.checkpoint();
    boolean plain = plan.compression() == Compression.NONE;
    PageSize size =
        new PageSize(
            config.export().batchRows(),
            config.export().batchBytes().asLongValue(),
            plain ? start.rowsDone() : 0,
            plain ? start.bytesDone() : 0);
    // Page file names of their own per run: a page still in flight from a run that was stopped
    // (and is fenced out at its commit) never writes into a page file of the next run.
    AtomicLong pageFiles = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40) << 20);
    Multi<Pager.Page> pages =
        Multi.createFrom()
            .generator(
                () -> Pager.Cursor.at(task.checkpoint()),
                (cursor, emitter) -> {
                  try {
                    Pager.Page page =
                        transactions.withConnection(c -> Pager.next(c, plan, cursor, size.rows()));
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
        Math.max(1, config.export().parallelism()),
        config.runner().throttle(),
        (page, before, stop) ->
            metrics.batch(
                TaskKind.EXPORT,
                () -> {
                  Path pageFile = files.exportSegment(task.id(), pageFiles.incrementAndGet());
                  try {
                    Copied copied = copyPage(plan, page, pageFile, stop);
                    Checkpoint previous = InOrder.committedBefore(before);
                    Committed committed =
                        appendPage(task, owner, out, page, copied.rows(), pageFile, previous, stop);
                    size.saw(copied.rows(), copied.csvBytes());
                    return committed;
                  } finally {
                    files.delete(pageFile);
                  }
                }));
  }

  /** A page in its page file: its rows, in this many bytes of CSV (before any compression). */
  private record Copied(long rows, long csvBytes) {}

  /**
   * One page: COPY TO its own file, beside the pages before it, compressed there if asked (so pages
   * are compressed side by side, not one after the other where they are appended). In a transaction
   * of its own, so that a connection broken under the COPY fails its rollback and leaves the pool.
   */
  private Copied copyPage(ExportPlan plan, Pager.Page page, Path pageFile, RunStop stop) {
    return transactions.inTransaction(
        c -> {
          Transactions.boundIdle(c, config.runner().lease().multipliedBy(2));
          try (FileChannel channel =
                  FileChannel.open(
                      pageFile,
                      StandardOpenOption.CREATE,
                      StandardOpenOption.TRUNCATE_EXISTING,
                      StandardOpenOption.WRITE);
              PageOutput stream =
                  PageOutput.to(channel, plan.compression(), config.export().gzipLevel())) {
            // Cancelled in the server if the run stops meanwhile: a page of up to 16 MB.
            long rows = stop.cancellable(c, connection -> copyOut(connection, plan, page, stream));
            stream.close();
            return new Copied(page.opening() ? 0 : rows, stream.csvBytes());
          } catch (IOException e) {
            throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
          }
        });
  }

  private static long copyOut(Connection c, ExportPlan plan, Pager.Page page, PageOutput stream)
      throws SQLException {
    try {
      return c.unwrap(PGConnection.class)
          .getCopyAPI()
          .copyOut(plan.copySql(page.condition(), page.opening() && plan.header()), stream);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
    }
  }

  /**
   * Once every page before it is in the file: the checkpoint saved first (which also fences out a
   * run that lost the task, and holds the task row until this commits, so no other run writes the
   * file meanwhile), then the page appended and synced, then the commit.
   */
  private Committed appendPage(
      Task task,
      String owner,
      FileChannel out,
      Pager.Page page,
      long rows,
      Path pageFile,
      Checkpoint before,
      RunStop stop) {
    return transactions.inTransaction(
        c -> {
          try (FileChannel in = FileChannel.open(pageFile, StandardOpenOption.READ)) {
            long length = in.size();
            Checkpoint next =
                new Checkpoint(
                    before.rowsDone() + rows, 0, before.bytesDone() + length, 0, page.lastKey());
            // Under the file's lock: a run being stopped closes the file only after this, so a page
            // whose checkpoint is saved is never cut short (the file stays its checkpoint's
            // length).
            synchronized (out) {
              if (!out.isOpen()) {
                throw new IllegalStateException("the run was stopped before this page was written");
              }
              stop.check();
              TaskState requested =
                  store.saveCheckpoint(
                      c, task.id(), owner, next, config.runner().lease().toMillis());
              // In pieces, giving up once the run is stopped: the task row is held meanwhile, and
              // the bytes past the checkpoint are cut off when the file is next opened.
              for (long sent = 0; sent < length; ) {
                stop.check();
                sent += in.transferTo(sent, Math.min(APPEND_PIECE, length - sent), out);
              }
              stop.check();
              out.force(false);
              if (out.position() != next.bytesDone()) {
                throw new IllegalStateException(
                    "the export file is "
                        + out.position()
                        + " bytes long, its checkpoint says "
                        + next.bytesDone());
              }
              return new Committed(next, requested);
            }
          } catch (IOException e) {
            throw new UncheckedIOException("cannot write the export file: " + e.getMessage(), e);
          }
        });
  }

  private FileChannel open(Task task) {
    try {
      files.deleteExportSegments(task.id());
      return files.openExport(task.id(), task.checkpoint().bytesDone());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the export file: " + e.getMessage(), e);
    }
  }

  /**
   * Closes the file once no page is being appended (on a worker: a stopped run is cancelled from an
   * event loop, which must not wait for a sync).
   */
  private static void close(FileChannel out) {
    Infrastructure.getDefaultWorkerPool()
        .execute(
            () -> {
              synchronized (out) {
                try {
                  out.close();
                } catch (IOException ignored) {
                  // Every byte that counts was synced before its checkpoint.
                }
              }
            });
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
      try {
        files.deleteExportSegments(task.id());
      } catch (IOException ignored) {
        // Swept later with the other files of tasks that ended (Orphans).
      }
    }
  }
}
