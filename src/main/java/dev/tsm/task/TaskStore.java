package dev.tsm.task;

import dev.tsm.Config;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Every statement on {@code tsm.task}. Reads and state changes go through the reactive client, each
 * change a compare-and-set so that the database decides races between requests and between
 * replicas; the statements that must share a JDBC transaction with a job's own work (the task
 * inserted with its staging table, the checkpoint with its batch, the final state with publishing
 * or undoing) take that transaction's connection.
 */
@ApplicationScoped
public class TaskStore {
  /**
   * The columns of a task {@code t} as clients read it: its row and its callback deliveries, oldest
   * first (see {@link TaskRows}).
   */
  static final String WITH_CALLBACKS =
      "t.*, (SELECT jsonb_agg(jsonb_build_object('state', c.state, 'status', c.status,"
          + " 'attempts', c.attempts, 'lastStatus', c.last_status, 'lastError', c.last_error,"
          + " 'nextAt', CASE WHEN c.status = 'pending' THEN c.next_at END,"
          + " 'deliveredAt', c.delivered_at) ORDER BY c.created_at)"
          + " FROM tsm.callback c WHERE c.task_id = t.id) AS "
          + TaskRows.CALLBACKS;

  private final Pool pool;
  private final String defaultCallback;

  TaskStore(Pool pool, Config config) {
    this.pool = pool;
    this.defaultCallback = CallbackUrl.check(config.callback().url().orElse(null));
  }

  // ---- Reads and changes of their own (reactive) ----------------------------------------------

  public Uni<Task> find(UUID id) {
    return one(
        pool.preparedQuery("SELECT " + WITH_CALLBACKS + " FROM tsm.task t WHERE id = $1")
            .execute(Tuple.of(id)));
  }

  /** The tasks with these ids (those that exist). */
  public Uni<List<Task>> findAll(List<UUID> ids) {
    return pool.preparedQuery("SELECT " + WITH_CALLBACKS + " FROM tsm.task t WHERE id = ANY ($1)")
        .execute(Tuple.of(ids.toArray(new UUID[0])))
        .map(TaskStore::all);
  }

  /** Newest first, optionally filtered by state, kind and owner (null: any). */
  public Uni<List<Task>> list(TaskState state, TaskKind kind, String createdBy, int limit) {
    return list(state, kind, createdBy, null, limit);
  }

  /**
   * As {@link #list(TaskState, TaskKind, String, int)}, only the tasks that come after task {@code
   * before} in that order (newest first): the next page of a list.
   */
  public Uni<List<Task>> list(
      TaskState state, TaskKind kind, String createdBy, UUID before, int limit) {
    String sql =
        "SELECT "
            + WITH_CALLBACKS
            + " FROM tsm.task t WHERE ($1::text IS NULL OR state = $1)"
            + " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR created_by = $3)"
            + " AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM tsm.task c WHERE c.id = $5"
            + "   AND (t.created_at < c.created_at OR (t.created_at = c.created_at AND t.id > c.id))))"
            + " ORDER BY created_at DESC, id LIMIT $4";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(name(state), name(kind), createdBy, limit, before))
        .map(TaskStore::all);
  }

  /**
   * What a new live stream starts from: the unfinished tasks (PENDING, RUNNING, PAUSED, FAILED),
   * then the newest finished ones, at most {@code limit}, oldest first.
   */
  public Uni<List<Task>> snapshot(String createdBy, int limit) {
    String sql =
        "SELECT "
            + WITH_CALLBACKS
            + " FROM (SELECT * FROM tsm.task WHERE ($1::text IS NULL OR created_by = $1)"
            + " ORDER BY state IN ('COMPLETED', 'TERMINATED'), created_at DESC, id LIMIT $2) t"
            + " ORDER BY created_at, id";
    return pool.preparedQuery(sql).execute(Tuple.of(createdBy, limit)).map(TaskStore::all);
  }

  /** A command a caller gave (pause, resume, terminate) and the caller's subject. */
  public record By(String command, String subject) {}

  /** Moves {@code from -> to} if the task is still in {@code from}; null otherwise. */
  public Uni<Task> move(UUID id, TaskState from, TaskState to, By by) {
    return move(id, from, to, by, null, null);
  }

  /**
   * Moves {@code from -> to} as {@link #move(UUID, TaskState, TaskState, By)}, merging {@code
   * options} (null: none) into the task's options in the same update; only a task created by {@code
   * ownedBy}, unless it is null.
   */
  public Uni<Task> move(
      UUID id, TaskState from, TaskState to, By by, JsonObject options, String ownedBy) {
    String sql =
        "UPDATE tsm.task SET state = $3, requested_state = NULL, requested_at = NULL,"
            + " options = CASE WHEN $6::text IS NULL THEN options ELSE options || $6::jsonb END,"
            + " updated_at = now(), last_command = $4, last_command_by = $5,"
            + " last_command_at = now(),"
            // A resume (to PENDING) gives the task a fresh start: no error, no crashes counted.
            + " error = CASE WHEN $3 = 'PENDING' THEN NULL ELSE error END,"
            + " crashes = CASE WHEN $3 = 'PENDING' THEN 0 ELSE crashes END"
            + " WHERE id = $1 AND state = $2 AND ($7::text IS NULL OR created_by = $7) RETURNING *";
    return one(
        pool.preparedQuery(sql)
            .execute(
                Tuple.from(
                    Arrays.asList(
                        id,
                        from.name(),
                        to.name(),
                        by.command(),
                        by.subject(),
                        options == null ? null : options.encode(),
                        ownedBy))));
  }

  /**
   * Asks the owner of a RUNNING task to stop, for a reason of the service's own if {@code reason}
   * is given (recorded as the error); null if the task is no longer RUNNING.
   */
  public Uni<Task> request(UUID id, TaskState requested, String reason, By by) {
    return request(id, requested, reason, by, null);
  }

  /**
   * Asks as {@link #request(UUID, TaskState, String, By)}, only a task created by {@code ownedBy},
   * unless it is null; null if the task is no longer RUNNING (or not {@code ownedBy}'s).
   */
  public Uni<Task> request(UUID id, TaskState requested, String reason, By by, String ownedBy) {
    String sql =
        "UPDATE tsm.task SET requested_state = $2, updated_at = now(), last_command = $4,"
            + " last_command_by = $5, last_command_at = now(),"
            + " requested_at = COALESCE(requested_at, now()), error = COALESCE($3, error)"
            + " WHERE id = $1 AND state = 'RUNNING'"
            + " AND (requested_state IS NULL OR requested_state = $2 OR $2 = 'TERMINATED')"
            + " AND ($6::text IS NULL OR created_by = $6)"
            + " RETURNING *";
    return one(
        pool.preparedQuery(sql)
            .execute(
                Tuple.from(
                    Arrays.asList(
                        id, requested.name(), reason, by.command(), by.subject(), ownedBy))));
  }

  /** Withdraws a pause that has not taken effect yet; null if there is none. */
  public Uni<Task> withdrawPause(UUID id, By by) {
    String sql =
        "UPDATE tsm.task SET requested_state = NULL, requested_at = NULL, updated_at = now(),"
            + " last_command = $2, last_command_by = $3, last_command_at = now()"
            + " WHERE id = $1 AND state = 'RUNNING' AND requested_state = 'PAUSED' RETURNING *";
    return one(pool.preparedQuery(sql).execute(Tuple.of(id, by.command(), by.subject())));
  }

  /**
   * Claims the oldest task that waits for a runner: a PENDING one, or a RUNNING one whose owner let
   * its lease expire. {@code SKIP LOCKED} lets replicas claim side by side. The owner token is
   * {@code instance/run}.
   *
   * <p>A RUNNING task whose lease ran out on another instance is a crash: its owner stopped without
   * handing it back (a graceful stop hands tasks back PENDING). The {@code maxCrashes}-th one ends
   * the task FAILED with {@code poisonReason} instead of running it again, unless a stop was asked
   * meanwhile (acted on without running the task). An instance that takes back its own task (its
   * lease ran out while the database was away) did not crash. {@code maxCrashes} 0 counts none.
   */
  public Uni<Claim> claim(String owner, Duration lease, int maxCrashes, String poisonReason) {
    String sql =
        "WITH picked AS (SELECT id, state AS was,"
            + "   state = 'RUNNING' AND split_part(owner, '/', 1)"
            + "     IS DISTINCT FROM split_part($1, '/', 1) AS crashed,"
            + "   crashes, requested_state FROM tsm.task"
            + "   WHERE (state = 'PENDING' OR (state = 'RUNNING' AND lease_until < now()))"
            // A task held by an instance is left to it until the hold runs out.
            + "   AND (held_by IS NULL OR held_by = split_part($1, '/', 1) OR held_until < now())"
            // A task fed by a resumable upload waits for its first rows (its plan), then for
            // bytes beyond those its last run read.
            + "   AND (upload_id IS NULL OR (staging_table IS NOT NULL AND (upload_complete"
            + "     OR upload_parked_at IS NULL OR upload_plain > upload_parked_at)))"
            + "   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1),"
            + " judged AS (SELECT id, was, crashed, crashed AND $3 > 0 AND crashes + 1 >= $3"
            + "   AND requested_state IS NULL AS poisoned FROM picked)"
            + " UPDATE tsm.task t SET"
            + " crashes = t.crashes + CASE WHEN j.crashed THEN 1 ELSE 0 END,"
            + " state = CASE WHEN j.poisoned THEN 'FAILED' ELSE 'RUNNING' END,"
            + " owner = CASE WHEN j.poisoned THEN NULL ELSE $1 END,"
            + " lease_until = CASE WHEN j.poisoned THEN NULL"
            + "   ELSE now() + $2 * interval '1 millisecond' END,"
            + " run_started_at = CASE WHEN j.poisoned THEN t.run_started_at ELSE now() END,"
            + " run_rows_start = CASE WHEN j.poisoned THEN t.run_rows_start ELSE t.rows_done END,"
            + " run_bytes_start = CASE WHEN j.poisoned THEN t.run_bytes_start"
            + "   ELSE t.bytes_done END,"
            + " updated_at = now(), error = CASE WHEN j.poisoned THEN $4 END,"
            + " upload_parked_at = NULL"
            + " FROM judged j WHERE t.id = j.id"
            + " RETURNING t.*, j.was, j.poisoned";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(owner, lease.toMillis(), maxCrashes, poisonReason))
        .map(
            set -> {
              if (!set.iterator().hasNext()) {
                return null;
              }
              Row row = set.iterator().next();
              return new Claim(
                  TaskRows.task(row),
                  "RUNNING".equals(row.getString("was")),
                  row.getBoolean("poisoned"));
            });
  }

  /**
   * A claimed task; {@code takeover} when its previous owner's lease had run out; {@code poisoned}
   * when that made one crash too many and the task is FAILED instead of running.
   */
  public record Claim(Task task, boolean takeover, boolean poisoned) {}

  /** FAILED tasks whose failure is older than {@code age}, oldest first. */
  public Uni<List<Task>> failedBefore(Duration age, int limit) {
    String sql =
        "SELECT * FROM tsm.task WHERE state = 'FAILED'"
            + " AND updated_at < now() - $1 * interval '1 millisecond'"
            + " ORDER BY updated_at LIMIT $2";
    return pool.preparedQuery(sql).execute(Tuple.of(age.toMillis(), limit)).map(TaskStore::all);
  }

  /**
   * Records that the files of exports COMPLETED longer than {@code age} ago expire now, before they
   * are deleted: their downloads answer 410 from here on. Returns those tasks.
   */
  public Uni<List<Task>> expireExportFiles(Duration age, int limit) {
    String sql =
        "UPDATE tsm.task SET file_expired_at = now() WHERE id IN (SELECT id FROM tsm.task"
            + "   WHERE kind = 'EXPORT' AND state = 'COMPLETED' AND file_expired_at IS NULL"
            + "   AND finished_at < now() - $1 * interval '1 millisecond'"
            + "   ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            + " RETURNING *";
    return pool.preparedQuery(sql).execute(Tuple.of(age.toMillis(), limit)).map(TaskStore::all);
  }

  /** State counts by state and kind, for the metrics. */
  public Uni<List<Row>> counts() {
    return pool.query("SELECT state, kind, count(*) AS n FROM tsm.task GROUP BY state, kind")
        .execute()
        .map(
            rows -> {
              List<Row> list = new ArrayList<>();
              rows.forEach(list::add);
              return list;
            });
  }

  /** Extends the lease of every task still held by one of these runs (owner tokens). */
  public Uni<Integer> renewLeases(List<String> owners, Duration lease) {
    String sql =
        "UPDATE tsm.task SET lease_until = now() + $2 * interval '1 millisecond'"
            + " WHERE owner = ANY ($1) AND state = 'RUNNING'";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(owners.toArray(new String[0]), lease.toMillis()))
        .map(RowSet::rowCount);
  }

  /** Extends this instance's hold on these tasks (see {@link NewTask.Hold}). */
  public Uni<Integer> renewHolds(List<UUID> ids, String instance, Duration lease) {
    String sql =
        "UPDATE tsm.task SET held_until = now() + $3 * interval '1 millisecond'"
            + " WHERE id = ANY ($1) AND held_by = $2";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(ids.toArray(new UUID[0]), instance, lease.toMillis()))
        .map(RowSet::rowCount);
  }

  /**
   * Ends this instance's run of a task: the task goes to {@code to} and loses its owner. Fenced on
   * the owner: an instance that lost the task changes nothing. Null also when a pause or a failure
   * ends the run while a terminate waits: the caller terminates instead. A run ended by a pause
   * that a resume withdrew meanwhile (the run was stopped at once all the same) goes PENDING, not
   * PAUSED: its next run goes on from the checkpoint.
   */
  public Uni<Task> release(UUID id, String owner, TaskState to, String error) {
    String sql =
        "UPDATE tsm.task SET state = CASE WHEN $3 = 'PAUSED' AND requested_state IS NULL"
            + " THEN 'PENDING' ELSE $3 END, owner = NULL, lease_until = NULL,"
            // A task handed back (PENDING) keeps a terminate asked meanwhile for its next owner.
            + " requested_state = CASE WHEN $3 = 'PENDING' THEN requested_state END,"
            + " error = $4, updated_at = now(),"
            + " finished_at = CASE WHEN $3 IN ('COMPLETED', 'TERMINATED') THEN now() END"
            + " WHERE id = $1 AND owner = $2 AND state = 'RUNNING'"
            // A terminate asked meanwhile wins over a pause or a failure: no PAUSED or FAILED then.
            + " AND NOT ($3 IN ('PAUSED', 'FAILED')"
            + "   AND requested_state IS NOT DISTINCT FROM 'TERMINATED')"
            + " RETURNING *";
    return one(pool.preparedQuery(sql).execute(Tuple.of(id, owner, to.name(), error)));
  }

  /**
   * Hands a run's task back to wait for input beyond {@code readable} ({@link WaitingForInput}).
   * Fenced on the owner, and only while no stop is asked (null then: the stop is acted on instead).
   */
  public Uni<Task> park(UUID id, String owner, long readable) {
    String sql =
        "UPDATE tsm.task SET state = 'PENDING', owner = NULL, lease_until = NULL,"
            + " upload_parked_at = $3, updated_at = now()"
            + " WHERE id = $1 AND owner = $2 AND state = 'RUNNING' AND requested_state IS NULL"
            + " RETURNING *";
    return one(pool.preparedQuery(sql).execute(Tuple.of(id, owner, readable)));
  }

  // ---- Within a caller's JDBC transaction ------------------------------------------------------

  /** The state of a task row, locked until the transaction ends. */
  public record Locked(
      TaskState state, TaskState requested, String owner, OffsetDateTime updatedAt) {}

  public void insert(Connection c, NewTask t) throws SQLException {
    String sql =
        "INSERT INTO tsm.task (id, kind, state, schema_name, table_name, options, columns,"
            + " staging_table, file_name, file_sha256, bytes_total, rows_total, bytes_done, line,"
            + " held_by, held_until, created_by)"
            + " VALUES (?, ?, 'PENDING', ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?,"
            + " now() + ? * interval '1 millisecond', ?)";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, t.id());
      ps.setString(2, t.kind().name());
      ps.setString(3, t.schema());
      ps.setString(4, t.table());
      JsonObject options = t.options();
      if (defaultCallback != null && CallbackUrl.of(options) == null) {
        options = CallbackUrl.into(options.copy(), defaultCallback);
      }
      ps.setString(5, options.encode());
      ps.setString(6, t.columns().encode());
      ps.setString(7, t.stagingTable());
      ps.setString(8, t.fileName());
      ps.setString(9, t.fileSha256());
      setLong(ps, 10, t.bytesTotal());
      setLong(ps, 11, t.rowsTotal());
      ps.setLong(12, t.start().bytesDone());
      ps.setLong(13, t.start().line());
      ps.setString(14, t.hold() == null ? null : t.hold().instance());
      setLong(ps, 15, t.hold() == null ? null : t.hold().leaseMillis());
      ps.setString(16, t.createdBy());
      ps.executeUpdate();
    }
  }

  /**
   * Records a checkpoint, fenced on the owner. Returns the stop asked of the task, if any.
   *
   * @throws LostTaskException when another instance owns the task now
   */
  public TaskState saveCheckpoint(
      Connection c, UUID id, String owner, Checkpoint cp, long leaseMillis) throws SQLException {
    String sql =
        "UPDATE tsm.task SET rows_done = ?, rows_skipped = ?, bytes_done = ?, line = ?,"
            + " last_key = ?, updated_at = now(),"
            + " lease_until = now() + ? * interval '1 millisecond'"
            + " WHERE id = ? AND owner = ? AND state = 'RUNNING' RETURNING requested_state";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, cp.rowsDone());
      ps.setLong(2, cp.rowsSkipped());
      ps.setLong(3, cp.bytesDone());
      ps.setLong(4, cp.line());
      ps.setString(5, cp.lastKey());
      ps.setLong(6, leaseMillis);
      ps.setObject(7, id);
      ps.setString(8, owner);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new LostTaskException(id);
        }
        String requested = rs.getString(1);
        return requested == null ? null : TaskState.valueOf(requested);
      }
    }
  }

  /** Locks the task row: requests and other replicas wait until this transaction ends. */
  public Locked lock(Connection c, UUID id) throws SQLException {
    String sql =
        "SELECT state, requested_state, owner, updated_at FROM tsm.task WHERE id = ? FOR UPDATE";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String requested = rs.getString(2);
        return new Locked(
            TaskState.valueOf(rs.getString(1)),
            requested == null ? null : TaskState.valueOf(requested),
            rs.getString(3),
            rs.getObject(4, OffsetDateTime.class));
      }
    }
  }

  /**
   * Moves a locked task to a state where no instance owns it. A termination without an error of its
   * own keeps the one recorded before (why it was asked, why it had failed).
   */
  public void end(Connection c, UUID id, TaskState to, String error) throws SQLException {
    String sql =
        "UPDATE tsm.task SET state = ?, requested_state = NULL, owner = NULL, lease_until = NULL,"
            + " requested_at = NULL, error = COALESCE(?, CASE WHEN ? THEN error END),"
            + " updated_at = now(), finished_at = CASE WHEN ? THEN now() END,"
            // A completed export knows its table's rows exactly: the estimate it began with goes.
            + " rows_total = CASE WHEN ? AND kind = 'EXPORT' THEN rows_done ELSE rows_total END"
            + " WHERE id = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, to.name());
      ps.setString(2, error);
      ps.setBoolean(3, to == TaskState.TERMINATED);
      ps.setBoolean(4, to.isFinal());
      ps.setBoolean(5, to == TaskState.COMPLETED);
      ps.setObject(6, id);
      ps.executeUpdate();
    }
  }

  /** Records the command a caller gave a locked task. */
  public void recordCommand(Connection c, UUID id, By by) throws SQLException {
    String sql =
        "UPDATE tsm.task SET last_command = ?, last_command_by = ?, last_command_at = now()"
            + " WHERE id = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, by.command());
      ps.setString(2, by.subject());
      ps.setObject(3, id);
      ps.executeUpdate();
    }
  }

  /**
   * The tasks of an owner that hold or wait for a runner (PENDING, RUNNING), counted under a lock
   * on the owner held until the transaction ends: two creates of one owner are counted one after
   * the other, on any replica.
   */
  public int activeOf(Connection c, String createdBy) throws SQLException {
    try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
      lock.setString(1, "tsm.owner:" + createdBy);
      lock.executeQuery().close();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM tsm.task WHERE created_by = ? AND state IN ('PENDING',"
                + " 'RUNNING')")) {
      ps.setString(1, createdBy);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /**
   * Ends the hold on a task whose file has arrived whole, recording its checksum and size (not
   * known before for a gzip body, whose file is what it decompresses to): any instance may run it
   * from now on.
   */
  public void releaseHold(Connection c, UUID id, String fileSha256, long fileSize)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tsm.task SET file_sha256 = ?, bytes_total = ?, held_by = NULL,"
                + " held_until = NULL WHERE id = ?")) {
      ps.setString(1, fileSha256);
      ps.setLong(2, fileSize);
      ps.setObject(3, id);
      ps.executeUpdate();
    }
  }

  /** Whether a task is still held by an instance (its row may be older than the hold's end). */
  public boolean held(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT held_by IS NOT NULL FROM tsm.task WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /**
   * An unfinished task of {@code kind} on {@code table} whose option {@code option} is {@code
   * value}, if any: its id.
   */
  public String unfinished(
      Connection c,
      TaskKind kind,
      String schema,
      String table,
      String option,
      String value,
      UUID except)
      throws SQLException {
    String sql =
        "SELECT id FROM tsm.task WHERE kind = ? AND schema_name = ? AND table_name = ?"
            + " AND state NOT IN ('COMPLETED', 'TERMINATED') AND options->>? = ?"
            + " AND id IS DISTINCT FROM ? LIMIT 1";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, kind.name());
      ps.setString(2, schema);
      ps.setString(3, table);
      ps.setString(4, option);
      ps.setString(5, value);
      ps.setObject(6, except);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /** The states in which a task still needs its staging table and files. */
  public static final String LIVE_STATES = "('PENDING', 'RUNNING', 'PAUSED', 'FAILED')";

  /** Staging tables in {@code tsm} (named {@code prefix...}) that no live task holds. */
  public List<String> stagingTablesOfNoLiveTask(Connection c, String prefix, int limit)
      throws SQLException {
    String sql =
        "SELECT c.relname FROM pg_catalog.pg_class c"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = 'tsm' AND c.relkind IN ('r', 'p')"
            + " AND starts_with(c.relname, ?) AND NOT EXISTS (SELECT 1 FROM tsm.task t"
            + "   WHERE t.staging_table = c.relname AND t.state IN "
            + LIVE_STATES
            + ") ORDER BY c.relname LIMIT ?";
    List<String> tables = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, prefix);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
    }
    return tables;
  }

  /** Whether a live task holds this staging table. */
  public boolean stagingTableHeld(Connection c, String table) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT 1 FROM tsm.task WHERE staging_table = ? AND state IN " + LIVE_STATES)) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static Uni<Task> one(Uni<RowSet<Row>> rows) {
    return rows.map(set -> set.iterator().hasNext() ? TaskRows.task(set.iterator().next()) : null);
  }

  private static List<Task> all(RowSet<Row> rows) {
    List<Task> tasks = new ArrayList<>();
    rows.forEach(row -> tasks.add(TaskRows.task(row)));
    return tasks;
  }

  private static String name(Enum<?> value) {
    return value == null ? null : value.name();
  }

  private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }
}
