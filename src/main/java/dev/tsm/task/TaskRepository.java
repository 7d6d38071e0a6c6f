package dev.tsm.task;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Task rows through the reactive client: reads, and every state change as a compare-and-set so the
 * database decides races between requests and between replicas.
 */
@ApplicationScoped
public class TaskRepository {
  private final Pool pool;

  TaskRepository(Pool pool) {
    this.pool = pool;
  }

  public Uni<Task> find(UUID id) {
    return one(pool.preparedQuery("SELECT * FROM tsm.task WHERE id = $1").execute(Tuple.of(id)));
  }

  /** The tasks with these ids (those that exist). */
  public Uni<List<Task>> findAll(List<UUID> ids) {
    return pool.preparedQuery("SELECT * FROM tsm.task WHERE id = ANY ($1)")
        .execute(Tuple.of(ids.toArray(new UUID[0])))
        .map(TaskRepository::all);
  }

  /** Newest first, optionally filtered. */
  public Uni<List<Task>> list(TaskState state, TaskKind kind, int limit) {
    String sql =
        "SELECT * FROM tsm.task WHERE ($1::text IS NULL OR state = $1)"
            + " AND ($2::text IS NULL OR kind = $2) ORDER BY created_at DESC, id LIMIT $3";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(name(state), name(kind), limit))
        .map(TaskRepository::all);
  }

  /** The newest task of a kind, or null. */
  public Uni<Task> latest(TaskKind kind) {
    return list(null, kind, 1).map(tasks -> tasks.isEmpty() ? null : tasks.get(0));
  }

  /** Moves {@code from -> to} if the task is still in {@code from}; null otherwise. */
  public Uni<Task> move(UUID id, TaskState from, TaskState to) {
    String sql =
        "UPDATE tsm.task SET state = $3, requested_state = NULL, requested_at = NULL,"
            + " updated_at = now(),"
            // A resume (to PENDING) gives the task a fresh start: no error, no crashes counted.
            + " error = CASE WHEN $3 = 'PENDING' THEN NULL ELSE error END,"
            + " crashes = CASE WHEN $3 = 'PENDING' THEN 0 ELSE crashes END"
            + " WHERE id = $1 AND state = $2 RETURNING *";
    return one(pool.preparedQuery(sql).execute(Tuple.of(id, from.name(), to.name())));
  }

  /**
   * Asks the owner of a RUNNING task to stop, for a reason of the service's own if {@code reason}
   * is given (recorded as the error); null if the task is no longer RUNNING.
   */
  public Uni<Task> request(UUID id, TaskState requested, String reason) {
    String sql =
        "UPDATE tsm.task SET requested_state = $2, updated_at = now(),"
            + " requested_at = COALESCE(requested_at, now()), error = COALESCE($3, error)"
            + " WHERE id = $1 AND state = 'RUNNING'"
            + " AND (requested_state IS NULL OR requested_state = $2 OR $2 = 'TERMINATED')"
            + " RETURNING *";
    return one(pool.preparedQuery(sql).execute(Tuple.of(id, requested.name(), reason)));
  }

  /** Withdraws a pause that has not taken effect yet; null if there is none. */
  public Uni<Task> withdrawPause(UUID id) {
    String sql =
        "UPDATE tsm.task SET requested_state = NULL, requested_at = NULL, updated_at = now()"
            + " WHERE id = $1 AND state = 'RUNNING' AND requested_state = 'PAUSED' RETURNING *";
    return one(pool.preparedQuery(sql).execute(Tuple.of(id)));
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
            // A file still arriving can be followed only by the instance receiving it.
            + "   AND (upload_owner IS NULL OR upload_owner = split_part($1, '/', 1)"
            + "     OR upload_until < now())"
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
            + " updated_at = now(), error = CASE WHEN j.poisoned THEN $4 END"
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
    return pool.preparedQuery(sql)
        .execute(Tuple.of(age.toMillis(), limit))
        .map(TaskRepository::all);
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
    return pool.preparedQuery(sql)
        .execute(Tuple.of(age.toMillis(), limit))
        .map(TaskRepository::all);
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

  /** Extends the hold of this instance on the uploads it is still receiving. */
  public Uni<Integer> renewUploads(List<UUID> ids, String instance, Duration lease) {
    String sql =
        "UPDATE tsm.task SET upload_until = now() + $3 * interval '1 millisecond'"
            + " WHERE id = ANY ($1) AND upload_owner = $2";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(ids.toArray(new UUID[0]), instance, lease.toMillis()))
        .map(RowSet::rowCount);
  }

  /**
   * Ends this instance's run of a task: the task goes to {@code to} and loses its owner. Fenced on
   * the owner: an instance that lost the task changes nothing. Null also when a pause or a failure
   * ends the run while a terminate waits: the caller terminates instead.
   */
  public Uni<Task> release(UUID id, String owner, TaskState to, String error) {
    String sql =
        "UPDATE tsm.task SET state = $3, owner = NULL, lease_until = NULL,"
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

  /** Up to {@code limit} of the rows an import set aside after line {@code afterLine}, in order. */
  public Uni<List<Row>> rejects(UUID id, long afterLine, int limit) {
    String sql =
        "SELECT line, reason, record FROM tsm.task_reject WHERE task_id = $1 AND line > $2"
            + " ORDER BY line LIMIT $3";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(id, afterLine, limit))
        .map(
            rows -> {
              List<Row> list = new ArrayList<>();
              rows.forEach(list::add);
              return list;
            });
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
}
