package dev.tsm.exporting;

import dev.tsm.Config;
import dev.tsm.buffers.ArrayPool;
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
import dev.tsm.task.Throttle;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * A table into a CSV file: keyset pages, each written by PostgreSQL's own CSV encoder (COPY TO) to
 * a page file of its own (as one complete gzip member, if compressed), side by side with the next
 * page; then, in page order, appended to the task's {@code .part} file (held by this run alone: see
 * {@link ExportFile}) and synced, and acknowledged by a checkpoint holding the file's length and
 * the page's last key. Only the checkpoints wait for one another: a page is appended and synced
 * while the checkpoint before it commits. Resume cuts the file back to the checkpoint's length (a
 * member boundary) and continues after its key; completion renames the file into place.
 */
@ApplicationScoped
public class ExportJob implements Job {
  /**
   * Pages in flight for each page copying: the others have copied and wait for their turn to be
   * appended, synced and committed (the slowest step of a page on a wide table), holding only their
   * page file.
   */
  private static final int IN_FLIGHT_PER_COPY = 2;

  /** How often a page waiting for its turn to copy looks whether the run stopped. */
  private static final long STOP_LOOK_MILLIS = 10;

  private final Config config;
  private final FileStore files;
  private final Transactions transactions;
  private final TaskStore store;
  private final TaskMetrics metrics;
  private final DataSource dataSource;

  /** The files of the runs on this instance, until each is closed. */
  private final Map<UUID, ExportFile> openFiles = new ConcurrentHashMap<>();

  ExportJob(
      Config config,
      FileStore files,
      Transactions transactions,
      TaskStore store,
      TaskMetrics metrics,
      DataSource dataSource) {
    this.dataSource = dataSource;
    this.config = config;
    this.files = files;
    this.transactions = transactions;
    this.store = store;
    this.metrics = metrics;
  }

  @Override
  public Uni<Void> settled(Task task) {
    ExportFile file = openFiles.get(task.id());
    return file == null
        ? Uni.createFrom().voidItem()
        : Uni.createFrom().completionStage(file.closed());
  }

  @Override
  public TaskKind kind() {
    return TaskKind.EXPORT;
  }

  @Override
  public Multi<Committed> run(Task task, String owner) {
    ExportPlan plan = ExportPlan.of(task);
    return Multi.createFrom()
        .resource(
            () -> {
              ExportFile file =
                  ExportFile.open(
                      dataSource,
                      files,
                      task.id(),
                      task.checkpoint().bytesDone(),
                      config.runner().lease().multipliedBy(2));
              openFiles.put(task.id(), file);
              file.closed().whenComplete((done, e) -> openFiles.remove(task.id(), file));
              return file;
            },
            file -> pages(task, owner, plan, file))
        .withFinalizer(ExportFile::close)
        .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
  }

  /**
   * Pages found one after the other (each from the bounds of the one before), copied side by side
   * into page files, appended to the export's file and synced in their order, each as soon as the
   * page before it is appended; each checkpoint commits after the one before it.
   */
  private Multi<Committed> pages(Task task, String owner, ExportPlan plan, ExportFile file) {
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
    // The file's end after each page, in page order: a page is appended once the one before is.
    AtomicReference<CompletableFuture<Long>> appended =
        new AtomicReference<>(CompletableFuture.completedFuture(start.bytesDone()));
    Multi<Turn> turns =
        pages
            .onItem()
            .transform(
                page -> {
                  CompletableFuture<Long> mine = new CompletableFuture<>();
                  return new Turn(page, appended.getAndSet(mine), mine);
                });
    int parallelism = Math.max(1, config.export().parallelism());
    ArrayPool writeBuffers = new ArrayPool(PageOutput.WRITE_BUFFER, parallelism + 1);
    // The copies are what costs (connections, CPU): a page that has copied waits for its append,
    // sync and commit without keeping the next page from starting its COPY.
    Semaphore copying = new Semaphore(parallelism, true);
    return InOrder.commit(
        turns,
        task.checkpoint(),
        IN_FLIGHT_PER_COPY * parallelism,
        config.runner().throttle(),
        (turn, before, stop) ->
            metrics.batch(
                TaskKind.EXPORT,
                () -> {
                  Path pageFile = files.exportSegment(task.id(), pageFiles.incrementAndGet());
                  try {
                    Copied copied;
                    awaitTurnToCopy(copying, stop);
                    try {
                      copied = copyPage(plan, turn, file, pageFile, writeBuffers, stop);
                    } finally {
                      releaseAfterThrottle(copying);
                    }
                    long offset = fileEndBefore(turn);
                    long end = copied.direct() ? copied.end() : file.append(pageFile, offset, stop);
                    turn.appended().complete(end); // the next page is appended meanwhile
                    file.sync();
                    Checkpoint previous = InOrder.committedBefore(before);
                    Committed committed =
                        file.checkpoint(
                            end,
                            () ->
                                saveCheckpoint(
                                    task,
                                    owner,
                                    turn.page(),
                                    copied.rows(),
                                    previous,
                                    offset,
                                    end,
                                    stop));
                    size.saw(copied.rows(), copied.csvBytes());
                    return committed;
                  } catch (RuntimeException e) {
                    // A page that failed fails the ones after it the same way, as a failed commit
                    // does (a stopped run's pages all end as stopped).
                    turn.appended().completeExceptionally(e);
                    throw e;
                  } finally {
                    turn.appended()
                        .completeExceptionally(
                            new IllegalStateException("the page before was not appended"));
                    files.delete(pageFile);
                  }
                }));
  }

  /** Waits for one of the run's copies to end (a stopped run's copies end at once), then copies. */
  private static void awaitTurnToCopy(Semaphore copying, RunStop stop) {
    try {
      while (!copying.tryAcquire(STOP_LOOK_MILLIS, TimeUnit.MILLISECONDS)) {
        stop.check();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunStop.Stopped(e);
    }
    try {
      stop.check();
    } catch (RuntimeException e) {
      copying.release();
      throw e;
    }
  }

  /**
   * Lets the next page copy once the throttle's pause after this copy is over: the pause spares the
   * database the next COPY, whichever page runs it.
   */
  private void releaseAfterThrottle(Semaphore copying) {
    Throttle.then(copying::release, config.runner().throttle());
  }

  /** A page, with the file's end after the page before it and after itself, once appended. */
  private record Turn(
      Pager.Page page, CompletableFuture<Long> appendedBefore, CompletableFuture<Long> appended) {}

  /** The file's end once the page before {@code turn} is appended (it failed: so does this). */
  private static long fileEndBefore(Turn turn) {
    try {
      return turn.appendedBefore().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException failure) {
        throw failure;
      }
      throw e;
    }
  }

  /**
   * A page copied: its rows, in this many bytes of CSV (before any compression); in its page file,
   * or, if {@code direct}, in the export file, which then ends at {@code end}.
   */
  private record Copied(long rows, long csvBytes, boolean direct, long end) {}

  /**
   * One page: COPY TO its own file, beside the pages before it, compressed there if asked (so pages
   * are compressed side by side, not one after the other where they are appended); straight to the
   * export file once the pages before it are appended ({@link PageSink}). In a transaction of its
   * own, so that a connection broken under the COPY fails its rollback and leaves the pool.
   */
  private Copied copyPage(
      ExportPlan plan,
      Turn turn,
      ExportFile file,
      Path pageFile,
      ArrayPool writeBuffers,
      RunStop stop) {
    Pager.Page page = turn.page();
    return transactions.inTransaction(
        c -> {
          Transactions.boundIdle(c, config.runner().lease().multipliedBy(2));
          try (FileChannel channel =
                  FileChannel.open(
                      pageFile,
                      StandardOpenOption.CREATE,
                      StandardOpenOption.TRUNCATE_EXISTING,
                      StandardOpenOption.READ,
                      StandardOpenOption.WRITE);
              PageSink sink = new PageSink(channel, turn.appendedBefore(), file, stop);
              PageOutput stream =
                  PageOutput.to(
                      sink, plan.compression(), config.export().gzipLevel(), writeBuffers)) {
            // Cancelled in the server if the run stops meanwhile: a page of up to 16 MB.
            long rows = stop.cancellable(c, connection -> copyOut(connection, plan, page, stream));
            stream.close();
            if (sink.failure() != null) {
              throw sink.failure();
            }
            return new Copied(
                page.opening() ? 0 : rows, stream.csvBytes(), sink.direct(), sink.end());
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
   * The page's checkpoint, once the one before it committed: the page is appended and synced by
   * then, at {@code offset}, the file's length at the checkpoint before.
   */
  private Committed saveCheckpoint(
      Task task,
      String owner,
      Pager.Page page,
      long rows,
      Checkpoint before,
      long offset,
      long end,
      RunStop stop) {
    if (before.bytesDone() != offset) {
      throw new IllegalStateException(
          "the page was appended at "
              + offset
              + ", its checkpoint before says "
              + before.bytesDone());
    }
    Checkpoint next = new Checkpoint(before.rowsDone() + rows, 0, end, 0, page.lastKey());
    return transactions.inTransaction(
        c -> {
          stop.check();
          TaskState requested =
              store.saveCheckpoint(c, task.id(), owner, next, config.runner().lease().toMillis());
          return new Committed(next, requested);
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
