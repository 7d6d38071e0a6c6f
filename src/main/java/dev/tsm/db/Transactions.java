package dev.tsm.db;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * JDBC work in one place: a connection from the pool, and a transaction that commits whole or rolls
 * back whole. A {@link SQLException} leaves as a {@link DatabaseException}. Blocking: call on a
 * worker thread.
 */
@ApplicationScoped
public class Transactions {
  /** Work on a connection. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private final DataSource dataSource;

  public Transactions(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
  public <T> T inTransaction(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        rollback(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException(e);
    }
  }

  /** Runs {@code work} on a connection in auto-commit mode: each statement commits on its own. */
  public <T> T withConnection(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException e) {
      throw new DatabaseException(e);
    }
  }

  /**
   * Bounds how long the current transaction may sit idle, its client silent between statements. A
   * process frozen in the middle of a batch (a long GC pause, a suspended VM, {@code kill -STOP})
   * would otherwise keep the task row or the staging table locked for as long as it stays frozen,
   * and no other instance could take the task over: the server ends such a session instead.
   */
  public static void boundIdle(Connection c, Duration idle) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL idle_in_transaction_session_timeout = " + idle.toMillis());
    }
  }

  /** A rollback that fails (the connection is broken) ends the transaction anyway. */
  private static void rollback(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }
}
