package dev.tsm.retention;

import dev.tsm.Config;
import dev.tsm.db.Sql;
import dev.tsm.db.Transactions;
import dev.tsm.idempotency.IdempotencyKeys;
import dev.tsm.tus.ExpiredUploads;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.IntSupplier;
import org.jboss.logging.Logger;

/**
 * Removes what is no longer needed, at start and every {@code tsm.retention.sweep-interval}:
 * expired export files, tasks FAILED past their retention, orphans a crash left behind, and
 * idempotency keys past {@code tsm.idempotency.key-ttl}. Replicas share one database and one
 * folder, so one instance sweeps at a time, under a PostgreSQL advisory lock; the others skip that
 * round. Each removal is also safe on its own (it re-checks the task it concerns), so a sweep that
 * outlives its lock does no harm.
 */
@ApplicationScoped
public class RetentionSweep {
  private static final Logger LOG = Logger.getLogger(RetentionSweep.class);
  private static final String LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('tsm.retention'))";

  private final Transactions transactions;
  private final ExpiredExports exports;
  private final StaleFailures failures;
  private final Orphans orphans;
  private final ExpiredUploads uploads;
  private final IdempotencyKeys keys;
  private final Config config;
  private volatile boolean stopping;

  RetentionSweep(
      Transactions transactions,
      ExpiredExports exports,
      StaleFailures failures,
      Orphans orphans,
      ExpiredUploads uploads,
      IdempotencyKeys keys,
      Config config) {
    this.transactions = transactions;
    this.uploads = uploads;
    this.keys = keys;
    this.exports = exports;
    this.failures = failures;
    this.orphans = orphans;
    this.config = config;
  }

  void onStart(@Observes StartupEvent event) {
    Infrastructure.getDefaultWorkerPool().execute(this::scheduled);
  }

  void onStop(@Observes ShutdownEvent event) {
    stopping = true; // a sweep left for the next start, not failed against closing pools
  }

  @Scheduled(
      every = "${tsm.retention.sweep-interval}",
      delayed = "${tsm.retention.sweep-interval}",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void scheduled() {
    if (stopping) {
      return;
    }
    try {
      sweep();
    } catch (RuntimeException e) {
      LOG.warnf("the retention sweep could not run: %s", e.getMessage());
    }
  }

  /**
   * One sweep, unless another instance is sweeping (then null). Blocking: call on a worker thread.
   */
  public Swept sweep() {
    long start = System.nanoTime();
    Swept swept = transactions.inTransaction(c -> locked(c) ? sweepParts() : null);
    if (swept != null && swept.total() > 0) {
      LOG.infof(
          "retention sweep: %d export files expired, %d failed tasks terminated, %d uploads"
              + " expired, %d orphan files and %d staging tables removed, %d idempotency keys"
              + " expired in %d ms",
          swept.exportFiles(),
          swept.failedTasks(),
          swept.expiredUploads(),
          swept.orphanFiles(),
          swept.stagingTables(),
          swept.idempotencyKeys(),
          (System.nanoTime() - start) / 1_000_000);
    }
    return swept;
  }

  /**
   * Takes the sweep's lock for this transaction, if free. The transaction stays idle while the
   * sweep works on other connections; should this process freeze, the server ends it after an
   * interval and the lock passes on.
   */
  private boolean locked(Connection c) throws SQLException {
    Sql.execute(
        c,
        "SET LOCAL idle_in_transaction_session_timeout = "
            + Math.max(config.retention().sweepInterval().toMillis(), 60_000));
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(LOCK)) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /** Each part runs even if one before it failed (a folder that cannot be read, say). */
  private Swept sweepParts() {
    return new Swept(
        part("expire export files", exports::sweep),
        part("terminate stale failed tasks", failures::sweep),
        part("expire abandoned resumable uploads", uploads::sweep),
        part("remove orphan files", orphans::files),
        part("drop orphan staging tables", orphans::stagingTables),
        part("delete expired idempotency keys", keys::expire));
  }

  private static int part(String what, IntSupplier work) {
    try {
      return work.getAsInt();
    } catch (RuntimeException e) {
      LOG.warnf("retention sweep: could not %s: %s", what, e.getMessage());
      return 0;
    }
  }
}
