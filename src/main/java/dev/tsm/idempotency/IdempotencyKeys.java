package dev.tsm.idempotency;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.db.Transactions;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The keys of {@code Idempotency-Key} in the database ({@code tsm.idempotency_key}), so that any
 * replica answers a repeat. A first request claims its key (a row without a task) before it does
 * anything; the primary key (subject, key) decides between two racing first requests: the one whose
 * insert lands first owns the key, the other waits for that insert's commit and then finds the row.
 * The owner records the task it created, or gives the key back when it fails. Blocking: call on a
 * worker thread.
 */
@ApplicationScoped
public class IdempotencyKeys {
  private static final Logger LOG = Logger.getLogger(IdempotencyKeys.class);
  private static final String EXPIRED = "created_at < now() - ? * interval '1 millisecond'";

  /** What a claim found: a new key (task null), or the task the first request created. */
  public record Claim(UUID taskId, String location) {
    public boolean isNew() {
      return taskId == null;
    }
  }

  private final Transactions transactions;
  private final Config config;

  IdempotencyKeys(Transactions transactions, Config config) {
    this.transactions = transactions;
    this.config = config;
  }

  /**
   * Claims {@code key} of {@code subject} for a request of {@code fingerprint}. Answers a new
   * claim, or the first request's task for the same request; refuses (422) the key of a different
   * request and (409) one whose first request is still in flight. An expired key acts as new.
   */
  public Claim claim(String subject, String key, String fingerprint) {
    long ttl = ttlMillis();
    return transactions.inTransaction(
        c -> {
          update(
              c,
              "DELETE FROM tsm.idempotency_key WHERE subject = ? AND key = ? AND " + EXPIRED,
              subject,
              key,
              ttl);
          int inserted =
              update(
                  c,
                  "INSERT INTO tsm.idempotency_key (subject, key, fingerprint) VALUES (?, ?, ?)"
                      + " ON CONFLICT (subject, key) DO NOTHING",
                  subject,
                  key,
                  fingerprint);
          return inserted == 1 ? new Claim(null, null) : existing(c, subject, key, fingerprint);
        });
  }

  private static Claim existing(Connection c, String subject, String key, String fingerprint)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT fingerprint, task_id, location FROM tsm.idempotency_key"
                + " WHERE subject = ? AND key = ?")) {
      ps.setString(1, subject);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        // No row: the first request gave its key back between our insert and this read.
        boolean found = rs.next();
        if (found && !fingerprint.equals(rs.getString(1))) {
          throw Refusal.unprocessable(
              "this Idempotency-Key was used for a different request (another method, path,"
                  + " parameters or body); use a new key for a new request");
        }
        UUID task = found ? rs.getObject(2, UUID.class) : null;
        if (task == null) {
          throw Refusal.conflict("a request with this Idempotency-Key is in progress; retry");
        }
        return new Claim(task, rs.getString(3));
      }
    }
  }

  /** Records what the first request with the key created. */
  public void complete(String subject, String key, UUID taskId, String location) {
    transactions.withConnection(
        c ->
            update(
                c,
                "UPDATE tsm.idempotency_key SET task_id = ?, location = ?"
                    + " WHERE subject = ? AND key = ? AND task_id IS NULL",
                taskId,
                location,
                subject,
                key));
  }

  /**
   * Gives a key back after its first request failed (refused, broken off): the client may send the
   * request again with it. Never fails: a key left behind expires.
   */
  public void release(String subject, String key) {
    try {
      transactions.withConnection(
          c ->
              update(
                  c,
                  "DELETE FROM tsm.idempotency_key"
                      + " WHERE subject = ? AND key = ? AND task_id IS NULL",
                  subject,
                  key));
    } catch (RuntimeException e) {
      LOG.warnf("could not release an idempotency key of %s: %s", subject, e.getMessage());
    }
  }

  /** Deletes the keys older than {@code tsm.idempotency.key-ttl}; returns how many. */
  public int expire() {
    long ttl = ttlMillis();
    return transactions.withConnection(
        c -> update(c, "DELETE FROM tsm.idempotency_key WHERE " + EXPIRED, ttl));
  }

  private static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps.executeUpdate();
    }
  }

  private long ttlMillis() {
    return config.idempotency().keyTtl().toMillis();
  }
}
