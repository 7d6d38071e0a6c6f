package dev.tsm.callback;

import dev.tsm.task.Task;
import dev.tsm.task.TaskRows;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Every statement on {@code tsm.callback} but the trigger's. Blocking: call on a worker thread. */
@ApplicationScoped
class Outbox {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** A delivery claimed for one attempt: its body, or the task to make it from at the first. */
  record Claimed(UUID id, String event, String url, String body, int attempts, Task task) {}

  private final Pool pool;

  Outbox(Pool pool) {
    this.pool = pool;
  }

  /**
   * Up to {@code limit} deliveries due, each counted as attempted and leased to this instance for
   * {@code lease}: another replica takes a row only once its lease passed (its holder died).
   */
  List<Claimed> claim(int limit, Duration lease) {
    String sql =
        "UPDATE tsm.callback c SET attempts = c.attempts + 1,"
            + " lease_until = now() + $2 * interval '1 millisecond'"
            + " FROM (SELECT id FROM tsm.callback WHERE status = 'pending' AND next_at <= now()"
            + " AND (lease_until IS NULL OR lease_until < now()) ORDER BY next_at LIMIT $1"
            + " FOR UPDATE SKIP LOCKED) due WHERE c.id = due.id"
            + " RETURNING c.id AS delivery_id, c.state AS event, c.url AS delivery_url,"
            + " c.body AS delivery_body, c.attempts AS delivery_attempts,"
            + " (jsonb_populate_record(NULL::tsm.task, c.snapshot)).*";
    List<Claimed> claimed = new ArrayList<>();
    for (Row row :
        pool.preparedQuery(sql).execute(Tuple.of(limit, lease.toMillis())).await().atMost(WAIT)) {
      claimed.add(
          new Claimed(
              row.getUUID("delivery_id"),
              row.getString("event"),
              row.getString("delivery_url"),
              row.getString("delivery_body"),
              row.getInteger("delivery_attempts"),
              TaskRows.task(row)));
    }
    return claimed;
  }

  /** Keeps the body made at the first attempt: every later attempt sends these bytes. */
  void keepBody(UUID id, String body) {
    pool.preparedQuery("UPDATE tsm.callback SET body = $2 WHERE id = $1 AND body IS NULL")
        .execute(Tuple.of(id, body))
        .await()
        .atMost(WAIT);
  }

  void delivered(UUID id, int status) {
    pool.preparedQuery(
            "UPDATE tsm.callback SET status = 'delivered', delivered_at = now(),"
                + " last_status = $2, last_error = NULL, lease_until = NULL WHERE id = $1")
        .execute(Tuple.of(id, status))
        .await()
        .atMost(WAIT);
  }

  /**
   * An attempt that failed: due again after {@code backoff}, or given up (failed) once it was the
   * last one allowed. A delivery another replica completed meanwhile stays delivered.
   */
  void failed(UUID id, Integer status, String error, Duration backoff, boolean last) {
    pool.preparedQuery(
            "UPDATE tsm.callback SET last_status = $2, last_error = $3, lease_until = NULL,"
                + " next_at = now() + $4 * interval '1 millisecond',"
                + " status = CASE WHEN $5 THEN 'failed' ELSE 'pending' END"
                + " WHERE id = $1 AND status = 'pending'")
        .execute(Tuple.of(id, status, error, backoff.toMillis(), last))
        .await()
        .atMost(WAIT);
  }
}
