package dev.tsm.importing;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.access.TableRights;
import dev.tsm.csv.FileStore;
import dev.tsm.csv.Growth;
import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import dev.tsm.db.Transactions;
import dev.tsm.task.CallbackUrl;
import dev.tsm.task.Checkpoint;
import dev.tsm.task.NewTask;
import dev.tsm.task.OwnerQuota;
import dev.tsm.task.Task;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskLog;
import dev.tsm.task.TaskRunner;
import dev.tsm.task.TaskService;
import dev.tsm.task.TaskStore;
import dev.tsm.upload.IncomingBody;
import dev.tsm.upload.Receiver;
import dev.tsm.upload.StagingSpace;
import dev.tsm.upload.UploadHolds;
import dev.tsm.upload.UploadSlots;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Accepts an import: checks the request, stages the body, reads the header and a sample, then
 * stores the task and creates its staging table in one transaction. Everything the client can get
 * wrong up to here is answered at once, before a task exists.
 */
@ApplicationScoped
public class ImportService {
  private static final Logger LOG = Logger.getLogger(ImportService.class);

  /** Bodies of declared length over this start loading before they have fully arrived. */
  private static final long FOLLOW_FROM = 1 << 20;

  /** A resumable upload's import is planned once this much arrived (or all of it). */
  private static final long PLAN_UPLOAD_FROM = 1 << 20;

  private final Config config;
  private final FileStore files;
  private final Transactions transactions;
  private final TaskStore store;
  private final TaskRunner runner;
  private final TaskService tasks;
  private final UploadHolds uploads;
  private final Receiver receiver;
  private final UploadSlots slots;
  private final StagingSpace space;
  private final TableRights rights;
  private final OwnerQuota quota;

  ImportService(
      Config config,
      FileStore files,
      Transactions transactions,
      TaskStore store,
      TaskRunner runner,
      TaskService tasks,
      UploadHolds uploads,
      Receiver receiver,
      UploadSlots slots,
      StagingSpace space,
      TableRights rights,
      OwnerQuota quota) {
    this.config = config;
    this.files = files;
    this.transactions = transactions;
    this.store = store;
    this.runner = runner;
    this.tasks = tasks;
    this.uploads = uploads;
    this.receiver = receiver;
    this.slots = slots;
    this.space = space;
    this.rights = rights;
    this.quota = quota;
  }

  /**
   * What the client sent, before the body is read, and who sent it; {@code callback}: the URL to
   * call back when the task ends (checked, see {@link CallbackUrl}), or null.
   */
  public record Request(Caller caller, String table, ImportOptions options, String callback) {
    public Request(Caller caller, String table, ImportOptions options) {
      this(caller, table, options, null);
    }

    /** The options stored with the task. */
    JsonObject optionsJson() {
      return CallbackUrl.into(options.toJson(), callback);
    }
  }

  /**
   * Checks what can be checked before the body is read: name, the caller's right to the table and
   * room among its tasks, options, target table.
   */
  private TableName check(Request request) {
    return check(request, true);
  }

  /** As above; {@code task}: whether a task would be created (counted against the quota). */
  private TableName check(Request request, boolean task) {
    TableName table = TableName.parse(request.table(), config.schemas());
    rights.check(request.caller(), TableRights.Use.IMPORT, table);
    checkTypes(request.options());
    transactions.inTransaction(
        c -> {
          if (task) {
            quota.admit(c, request.caller()); // counted again when the task is stored
          }
          return checkTarget(c, table, request.options().mode());
        });
    return table;
  }

  /** The types the client chose, asked of the database (400 for one it does not have). */
  private void checkTypes(ImportOptions options) {
    if (!options.types().isEmpty()) {
      transactions.withConnection(
          c -> {
            ColumnChoices.checkTypes(c, options.types());
            return null;
          });
    }
  }

  /** A request that passed its checks, and the disk space promised to its body. */
  private record Admitted(TableName table, StagingSpace.Reservation space) {}

  /**
   * Creates the task from a body streamed to disk without a blocking thread: the checks run on a
   * worker, the body is written by the event loop (decompressed first, if gzip). A body of declared
   * file length over {@link #FOLLOW_FROM} (as sent, so compressed for gzip) is not waited for: the
   * task is created once the header and sample rows are on disk and starts loading while the rest
   * arrives. The answer still comes once the body ended. Call on the request's context: beyond
   * {@code tsm.import.max-concurrent-uploads} bodies at once it throws the 503 at once, before the
   * body is read.
   */
  public Uni<UUID> create(Request request, IncomingBody body) {
    return admit(
        body,
        () -> check(request),
        (id, admitted, slot, context) -> receive(request, body, id, admitted, slot, context));
  }

  /** What follows the admission of a body, given its id, space, upload slot and context. */
  private interface Admission<T> {
    Uni<T> then(UUID id, Admitted admitted, UploadSlots.Slot slot, Context context);
  }

  /**
   * Takes an upload slot (or throws the 503 at once), then runs {@code checks} and reserves the
   * body's space on a worker, the body paused meanwhile; the slot is given back if they fail.
   */
  private <T> Uni<T> admit(
      IncomingBody body, java.util.function.Supplier<TableName> checks, Admission<T> next) {
    Context context = Vertx.currentContext();
    UUID id = UUID.randomUUID();
    UploadSlots.Slot slot = slots.take();
    body.bytes().pause();
    return detached(
        Uni.createFrom()
            .item(() -> new Admitted(checks.get(), space.reserve(id, body.declaredLength())))
            .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
            .onFailure()
            .invoke(slot::release)
            .flatMap(admitted -> next.then(id, admitted, slot, context)));
  }

  // ---- Preview: what an import would do, nothing written ------------------------------------

  /** Rows of a preview shown with it. */
  private static final int PREVIEW_ROWS = 20;

  /**
   * Previews the import of a body: staged to a temporary file under the same limits as an import's
   * (upload slots, size, silence, disk space), sampled as an import samples it, then deleted. With
   * a table, checked as an import into it is (rights, mode, target, columns) and its columns typed
   * as they would be; without, as a new table. No table, task or file remains.
   */
  public Uni<ImportPreview> preview(Request request, IncomingBody body) {
    return admit(
        body,
        () -> previewCheck(request),
        (id, admitted, slot, context) -> {
          Receiver.Receiving receiving = receiver.receive(id, body, admitted.space(), context);
          return receiving
              .done()
              .onTermination()
              .invoke(slot::release)
              .emitOn(Infrastructure.getDefaultWorkerPool())
              .map(staged -> previewOf(request, admitted.table(), staged))
              .onTermination()
              .invoke(() -> files.delete(receiving.path()));
        });
  }

  /** The checks of an import, but for the quota (no task is made); none of a table not named. */
  private TableName previewCheck(Request request) {
    if (request.table() == null || request.table().isBlank()) {
      checkTypes(request.options());
      return null;
    }
    return check(request, false);
  }

  private ImportPreview previewOf(Request request, TableName table, Receiver.Staged staged) {
    if (staged.size() == 0) {
      throw Refusal.invalid("the request body is empty: send a CSV file");
    }
    ImportOptions options = request.options();
    FileSample sample =
        sample(options, staged.path(), Growth.WHOLE, config.importing().sampleRows());
    return transactions.inTransaction(
        c -> {
          ImportPlan plan =
              table == null ? created(options, sample) : plan(c, table, options, sample, null);
          List<ImportPreview.Problem> problems = new ArrayList<>(sample.problems());
          List<ImportPreview.Column> columns = new ArrayList<>();
          for (int i = 0; i < plan.columns().size(); i++) {
            ImportPlan.Column column = plan.columns().get(i);
            ColumnProfile profile = sample.profiles().get(i);
            String inferred = profile.type().sql();
            String reason = profile.reason();
            if (!column.type().equals(inferred)) {
              reason =
                  column.type()
                      + (options.mode() == ImportOptions.Mode.CREATE
                          ? ": chosen (types=)"
                          : ": the column's type in table " + table)
                      + "; the sample suggests "
                      + reason;
              misfits(c, sample, i, column, problems);
            }
            columns.add(
                new ImportPreview.Column(
                    column.name(),
                    options.header() ? sample.header().get(i) : null,
                    column.type(),
                    inferred,
                    reason,
                    profile.values(),
                    profile.nulls()));
          }
          c.rollback(); // the casts wrote nothing; nothing is kept either way
          problems.sort(java.util.Comparator.comparingLong(ImportPreview.Problem::line));
          return new ImportPreview(
              sample.header(),
              columns,
              sample.rows().subList(0, Math.min(PREVIEW_ROWS, sample.rows().size())),
              problems.subList(0, Math.min(FileSample.SHOWN_PROBLEMS, problems.size())),
              sample.sampledRows(),
              sample.dataOffset());
        });
  }

  /** The sampled values of column {@code i} its type does not take, as problems. */
  private static void misfits(
      Connection c,
      FileSample sample,
      int i,
      ImportPlan.Column column,
      List<ImportPreview.Problem> problems)
      throws SQLException {
    List<String> values = new ArrayList<>();
    List<Long> lines = new ArrayList<>();
    for (int r = 0; r < sample.rows().size(); r++) {
      String value = sample.rows().get(r).get(i);
      if (value != null) {
        values.add(value);
        lines.add(sample.rowLines().get(r));
      }
    }
    ColumnChoices.misfits(c, column.type(), values, FileSample.SHOWN_PROBLEMS)
        .forEach(
            (index, why) ->
                problems.add(
                    new ImportPreview.Problem(
                        lines.get(index),
                        "column "
                            + column.name()
                            + ": '"
                            + ColumnChoices.cut(values.get(index))
                            + "' does not fit "
                            + column.type()
                            + " ("
                            + why
                            + ")")));
  }

  /** Receives an admitted body; the upload slot is given back once the body ended. */
  private Uni<UUID> receive(
      Request request,
      IncomingBody body,
      UUID id,
      Admitted admitted,
      UploadSlots.Slot slot,
      Context context) {
    long start = System.nanoTime();
    long expected = body.fileLength();
    TableName table = admitted.table();
    Receiver.Receiving receiving = receiver.receive(id, body, admitted.space(), context);
    receiving
        .done()
        .onTermination()
        .invoke(slot::release)
        .subscribe()
        .with(
            staged -> {},
            failure -> LOG.infof("upload for task %s stopped: %s", id, failure.getMessage()));
    if (expected <= FOLLOW_FROM) {
      // Small, or of unknown length (only its end tells whether it fits the limit).
      return detached(
          receiving
              .done()
              .onFailure()
              .invoke(() -> files.delete(receiving.path()))
              .emitOn(Infrastructure.getDefaultWorkerPool())
              .map(staged -> accept(request, table, id, staged, System.nanoTime() - start)));
    }
    AtomicBoolean created = new AtomicBoolean();
    receiving
        .done()
        .subscribe()
        .with(
            staged -> {},
            failure -> {
              if (!created.get()) {
                // Only the sample waits for it yet. A task's file goes when it is terminated.
                receiving.upload().fail(String.valueOf(failure.getMessage()));
                files.delete(receiving.path());
              }
            });
    return detached(
        Uni.createFrom()
            .item(() -> acceptArriving(request, table, id, receiving, expected, created))
            .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
            .onFailure()
            .recoverWithUni(refusal -> refused(receiving, refusal))
            .flatMap(accepted -> arrived(id, receiving, start)));
  }

  /**
   * Runs to its end even when the client goes away (which cancels the response): a task or a file
   * must never be left half made.
   */
  private static <T> Uni<T> detached(Uni<T> work) {
    Uni<T> outcome = work.memoize().indefinitely();
    outcome.subscribe().with(result -> {}, failure -> {});
    return outcome;
  }

  private UUID accept(
      Request request, TableName table, UUID id, Receiver.Staged staged, long stagingNanos) {
    long stagedAt = System.nanoTime();
    try {
      if (staged.size() == 0) {
        throw Refusal.invalid("the request body is empty: send a CSV file");
      }
      FileSample sample = sample(request.options(), staged.path(), Growth.WHOLE, 0);
      store(
          id,
          table,
          request,
          sample,
          new Arrival(staged.path(), staged.size(), staged.sha256(), null));
      TaskLog.info(
          LOG,
          id,
          "task %s: import of %d bytes into %s accepted (staged in %d ms, checked in %d ms)",
          id,
          staged.size(),
          table,
          stagingNanos / 1_000_000,
          (System.nanoTime() - stagedAt) / 1_000_000);
    } catch (RuntimeException e) {
      files.delete(staged.path());
      throw e;
    }
    runner.dispatch();
    return id;
  }

  /**
   * Creates the task of a body still arriving, from its first rows: blocks until they are on disk.
   * The task holds the upload for this instance until it ends.
   */
  private UUID acceptArriving(
      Request request,
      TableName table,
      UUID id,
      Receiver.Receiving receiving,
      long expected,
      AtomicBoolean created) {
    long begun = System.nanoTime();
    FileSample sample = sample(request.options(), receiving.path(), receiving.upload(), 0);
    String instance = runner.instanceId();
    uploads.add(id, receiving.upload(), instance);
    // From here a failed body stops the task before its readers hear of it (see arrived).
    created.set(true);
    // A gzip body's plain length is known at its end only (then recorded, see arrived).
    Long total = receiving.compressed() ? null : expected;
    try {
      NewTask.Hold hold = new NewTask.Hold(instance, config.runner().lease().toMillis());
      store(id, table, request, sample, new Arrival(receiving.path(), total, null, hold));
    } catch (RuntimeException e) {
      uploads.remove(id);
      receiving.upload().fail("the task could not be created");
      throw e;
    }
    TaskLog.info(
        LOG,
        id,
        "task %s: import of %d bytes%s into %s accepted while the body arrives (%d bytes on"
            + " disk, checked in %d ms)",
        id,
        expected,
        receiving.compressed() ? " of gzip" : "",
        table,
        receiving.upload().readable(),
        (System.nanoTime() - begun) / 1_000_000);
    runner.dispatch();
    return id;
  }

  /**
   * Refused before a task exists: the rest of the body is read and dropped, the file deleted, then
   * the refusal answered; or the body's own failure (silence, a limit), when that came first and
   * made the sample fail.
   */
  private <T> Uni<T> refused(Receiver.Receiving receiving, Throwable refusal) {
    Throwable answer = receiving.failure() instanceof Refusal body ? body : refusal;
    receiving.discard();
    return receiving
        .done()
        .onItemOrFailure()
        .invoke(() -> files.delete(receiving.path()))
        .onItemOrFailure()
        .transformToUni((staged, failure) -> Uni.createFrom().failure(answer));
  }

  /**
   * The body of a running task ended. Complete: recorded as such, with the file's hash and size
   * (its readers already know). Broken off, or undecodable gzip: the task is terminated, since
   * nobody has its id yet.
   */
  private Uni<UUID> arrived(UUID id, Receiver.Receiving receiving, long start) {
    return receiving
        .done()
        .emitOn(Infrastructure.getDefaultWorkerPool())
        .invoke(
            staged -> {
              transactions.withConnection(
                  c -> {
                    store.releaseHold(c, id, staged.sha256(), staged.size());
                    return null;
                  });
              uploads.remove(id);
              TaskLog.info(
                  LOG,
                  id,
                  "task %s: upload of %d bytes received in %d ms",
                  id,
                  staged.size(),
                  (System.nanoTime() - start) / 1_000_000);
            })
        .onFailure()
        .call(
            failure -> {
              String reason =
                  failure.getMessage() + " (after " + receiving.upload().readable() + " bytes)";
              TaskLog.warn(LOG, id, "task %s: %s; terminating it", id, reason);
              return tasks
                  .terminate(id, reason)
                  .onFailure()
                  .invoke(
                      e ->
                          TaskLog.warn(
                              LOG, id, "task %s: could not terminate: %s", id, e.getMessage()))
                  .onFailure()
                  .recoverWithNull()
                  .onTermination()
                  .invoke(
                      () -> {
                        receiving.upload().fail(String.valueOf(failure.getMessage()));
                        uploads.remove(id);
                      });
            })
        .replaceWith(id);
  }

  /** The sample of a file read as {@code options} say, keeping its first {@code kept} rows. */
  private FileSample sample(ImportOptions options, Path file, Growth growth, int kept) {
    return FileSample.read(
        file,
        growth,
        options.dialect(),
        ImportJob.limits(config),
        config.importing().sampleRows(),
        config.importing().sampleBytes().asLongValue(),
        kept);
  }

  /** The file of a new task: complete ({@code upload} null) or still arriving. */
  private record Arrival(Path path, Long size, String sha256, NewTask.Hold hold) {}

  private void store(UUID id, TableName table, Request request, FileSample sample, Arrival file) {
    transactions.inTransaction(c -> insert(c, id, table, request, sample, file));
  }

  private Void insert(
      Connection c, UUID id, TableName table, Request request, FileSample sample, Arrival file)
      throws SQLException {
    ImportOptions options = request.options();
    // Two requests creating the same table at once: the second is refused at once rather than
    // waiting on the first (no request waits on another).
    try (var ps = c.prepareStatement("SELECT pg_try_advisory_xact_lock(hashtext(?))")) {
      ps.setString(1, "tsm.import:" + table);
      try (var rs = ps.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw Refusal.conflict(
              "another import into "
                  + table
                  + " is being accepted at this moment; retry once it is (and use mode=append"
                  + " if it creates the table)");
        }
      }
    }
    ImportPlan plan = plan(c, table, options, sample, null);
    quota.admit(c, request.caller());
    store.insert(
        c,
        newImport(
            id,
            table,
            request,
            plan.toJson(),
            createStaging(c, id, plan),
            file,
            new Checkpoint(0, 0, sample.dataOffset(), sample.dataLine(), null)));
    return null;
  }

  /** The staging table of import {@code id}, created empty in {@code tsm}; returns its name. */
  private static String createStaging(Connection c, UUID id, ImportPlan plan) throws SQLException {
    String staging = ImportJob.STAGING_PREFIX + id.toString().replace("-", "");
    Sql.execute(
        c, "CREATE TABLE tsm." + Sql.ident(staging) + " (" + plan.columnDefinitions() + ")");
    return staging;
  }

  private static NewTask newImport(
      UUID id,
      TableName table,
      Request request,
      io.vertx.core.json.JsonArray columns,
      String staging,
      Arrival file,
      Checkpoint start) {
    return new NewTask(
        id,
        TaskKind.IMPORT,
        table.schema(),
        table.name(),
        request.optionsJson(),
        columns,
        staging,
        file.path().getFileName().toString(),
        file.sha256(),
        file.size(),
        null,
        start,
        file.hold(),
        request.caller().subject());
  }

  // ---- Resumable uploads: the task exists before its first bytes ----------------------------

  /**
   * Checks a resumable upload's import as {@code POST /imports} checks its request before the body
   * (name, rights, options, target, room among the caller's tasks): 4xx at creation.
   */
  public TableName admit(Request request) {
    return check(request);
  }

  /**
   * Stores the task a resumable upload feeds, before any of its bytes: no column plan and no
   * staging table yet ({@link #planUpload} makes them from its first rows), so no runner takes it.
   */
  public void insertUploadTask(Connection c, UUID id, TableName table, Request request)
      throws SQLException {
    ImportOptions options = request.options();
    checkTarget(c, table, options.mode());
    quota.admit(c, request.caller());
    store.insert(
        c,
        newImport(
            id,
            table,
            request,
            new io.vertx.core.json.JsonArray(),
            null,
            new Arrival(files.importFile(id), null, null, null),
            new Checkpoint(0, 0, 0, 1, null)));
  }

  /**
   * Plans the import of a resumable upload from the first {@code readable} bytes of its file, once
   * there are enough ({@code complete}, or a megabyte: the sample is taken from the whole lines in
   * it): header, types, staging table, and the checkpoint at the first data row. From then on a
   * runner may take the task. Returns false when it was planned already or it is too early.
   *
   * @throws Refusal when the file cannot be imported (its header, or its columns against the
   *     table): the caller ends the task with that reason
   */
  public boolean planUpload(UUID id, long readable, boolean complete) {
    if (!complete && readable < PLAN_UPLOAD_FROM) {
      return false;
    }
    Path file = files.importFile(id);
    long usable = complete ? readable : FileSample.lastLineEnd(file, readable);
    if (usable <= 0) {
      return false;
    }
    Task task = store.find(id).await().atMost(java.time.Duration.ofSeconds(30));
    if (task == null || task.stagingTable() != null || task.state().isFinal()) {
      return false;
    }
    ImportOptions options = ImportOptions.fromJson(task.options());
    TableName table = new TableName(task.schema(), task.table());
    FileSample sample = sample(options, file, FileSample.firstBytes(usable), 0);
    return transactions.inTransaction(
        c -> {
          try (var ps =
              c.prepareStatement(
                  "SELECT staging_table IS NULL AND state NOT IN ('COMPLETED', 'TERMINATED')"
                      + " FROM tsm.task WHERE id = ? FOR UPDATE")) {
            ps.setObject(1, id);
            try (var rs = ps.executeQuery()) {
              if (!rs.next() || !rs.getBoolean(1)) {
                return false;
              }
            }
          }
          ImportPlan plan = plan(c, table, options, sample, id);
          String staging = createStaging(c, id, plan);
          try (var ps =
              c.prepareStatement(
                  "UPDATE tsm.task SET columns = ?::jsonb, staging_table = ?, bytes_done = ?,"
                      + " line = ?, updated_at = now() WHERE id = ?")) {
            ps.setString(1, plan.toJson().encode());
            ps.setString(2, staging);
            ps.setLong(3, sample.dataOffset());
            ps.setLong(4, sample.dataLine());
            ps.setObject(5, id);
            ps.executeUpdate();
          }
          TaskLog.info(
              LOG,
              id,
              "task %s: import into %s planned from the first %d bytes of its upload",
              id,
              table,
              usable);
          return true;
        });
  }

  /**
   * Create: the sampled names and types. Into an existing table: the file's columns matched to the
   * table's, and for upsert its key checked against the table's unique indexes.
   */
  private ImportPlan plan(
      Connection c, TableName table, ImportOptions options, FileSample sample, UUID self)
      throws SQLException {
    checkTarget(c, table, options.mode(), self);
    if (options.mode() == ImportOptions.Mode.CREATE) {
      return created(options, sample);
    }
    ImportPlan plan = matched(c, table, options, sample);
    if (options.mode() == ImportOptions.Mode.UPSERT) {
      LoadModes.checkKey(c, table, options, plan);
    }
    return plan;
  }

  /**
   * The columns of a new table: the sampled names and types, as renamed and typed by the client.
   */
  private static ImportPlan created(ImportOptions options, FileSample sample) {
    List<String> names = ColumnChoices.renamed(sample.names(), options.rename());
    ColumnNames.checkNotSystem(names);
    List<String> chosen = ColumnChoices.chosenTypes(sample.names(), names, options.types());
    List<ImportPlan.Column> columns = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String type = chosen.get(i);
      columns.add(
          new ImportPlan.Column(names.get(i), type != null ? type : sample.types().get(i).sql()));
    }
    return new ImportPlan(columns);
  }

  /** The file's columns matched to an existing table's: by header name, else by position. */
  private static ImportPlan matched(
      Connection c, TableName table, ImportOptions options, FileSample sample) throws SQLException {
    List<ImportPlan.Column> columns = new ArrayList<>();
    List<Sql.Column> existing = Sql.columns(c, table);
    List<String> names = ColumnChoices.renamed(sample.names(), options.rename());
    if (!options.header() && options.rename().isEmpty()) {
      if (names.size() > existing.size()) {
        throw Refusal.invalid(
            "the file has "
                + sample.names().size()
                + " columns but table "
                + table
                + " has only "
                + existing.size());
      }
      existing.stream()
          .limit(sample.names().size())
          .forEach(col -> columns.add(new ImportPlan.Column(col.name(), col.type())));
      return new ImportPlan(columns);
    }
    Map<String, Sql.Column> byName = new HashMap<>();
    existing.forEach(col -> byName.put(col.name(), col));
    List<String> unknown = new ArrayList<>();
    for (String name : names) {
      Sql.Column col = byName.get(name);
      if (col == null) {
        col = matchIgnoringCase(existing, name);
      }
      if (col == null) {
        unknown.add(name);
      } else {
        columns.add(new ImportPlan.Column(col.name(), col.type()));
      }
    }
    if (!unknown.isEmpty()) {
      throw Refusal.invalid(
          "table "
              + table
              + " has no column named "
              + String.join(", ", unknown)
              + "; its columns are "
              + existing.stream().map(Sql.Column::name).toList());
    }
    if (columns.stream().map(ImportPlan.Column::name).distinct().count() != columns.size()) {
      throw Refusal.invalid("the header names a column of " + table + " twice");
    }
    return new ImportPlan(columns);
  }

  private static Sql.Column matchIgnoringCase(List<Sql.Column> columns, String name) {
    List<Sql.Column> matches =
        columns.stream().filter(col -> col.name().equalsIgnoreCase(name)).toList();
    return matches.size() == 1 ? matches.get(0) : null;
  }

  private Void checkTarget(Connection c, TableName table, ImportOptions.Mode mode)
      throws SQLException {
    return checkTarget(c, table, mode, null);
  }

  /** As above, for the task {@code self} (not another that creates the table). */
  private Void checkTarget(Connection c, TableName table, ImportOptions.Mode mode, UUID self)
      throws SQLException {
    if (mode == ImportOptions.Mode.CREATE) {
      String other =
          store.unfinished(
              c, TaskKind.IMPORT, table.schema(), table.name(), "mode", "create", self);
      if (other != null) {
        throw Refusal.conflict(
            "import task "
                + other
                + " is already creating table "
                + table
                + "; wait for it,"
                + " terminate it, or use mode=append once it completed");
      }
    }
    boolean exists = Sql.tableExists(c, table);
    if (mode == ImportOptions.Mode.CREATE && exists) {
      throw Refusal.conflict(
          "table " + table + " already exists; use mode=append to add rows to it");
    }
    if (mode.intoExisting() && !exists) {
      throw Refusal.notFound("table " + table + " does not exist; use mode=create to create it");
    }
    return null;
  }
}
