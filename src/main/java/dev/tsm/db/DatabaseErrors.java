package dev.tsm.db;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.net.ConnectException;
import java.net.SocketException;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Tells a database that cannot be reached (try again later) from one that answered with an error
 * (retrying the same request changes nothing), for both clients: pgjdbc through the Agroal pool and
 * the reactive client.
 */
public final class DatabaseErrors {
  /**
   * Besides class 08 (connection exception): the server shutting down or ending the session
   * (admin_shutdown, crash_shutdown, cannot_connect_now) and too_many_connections.
   */
  private static final Set<String> UNREACHABLE = Set.of("57P01", "57P02", "57P03", "53300");

  private DatabaseErrors() {}

  /**
   * Whether the failure says the database cannot be reached: a refused or lost connection, a
   * connection-class SQLSTATE, or no pooled connection within the pool's acquisition timeout.
   */
  public static boolean unreachable(Throwable e) {
    if (e instanceof SocketException) {
      // The reactive client fails a query whose connection the server dropped (shut down, session
      // ended) with the socket's own exception, unwrapped. The service's own I/O failures (an
      // upload broken off) always come wrapped in words of what they were doing.
      return true;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof ClosedConnectionException) {
        return true;
      }
      String state = sqlState(t);
      if (state != null && (state.startsWith("08") || UNREACHABLE.contains(state))) {
        return true;
      }
      if (poolTimeout(t)) {
        return true;
      }
    }
    return false;
  }

  /** The first SQLSTATE in the chain, or null. */
  public static String firstSqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String state = sqlState(t);
      if (state != null) {
        return state;
      }
    }
    return null;
  }

  private static String sqlState(Throwable t) {
    if (t instanceof PgException pg) {
      return pg.getSqlState();
    }
    return t instanceof SQLException sql ? sql.getSQLState() : null;
  }

  /**
   * Agroal gives up waiting for a connection with a plain SQLException without SQLSTATE: "Sorry,
   * acquisition timeout!" when every connection stayed in use, or "Acquisition timeout while
   * waiting for new connection" (cause: a TimeoutException) when opening one took too long. The
   * reactive pool fails with "Timeout waiting for connection". The message is all they carry.
   */
  private static boolean poolTimeout(Throwable t) {
    String message = t.getMessage();
    if (t instanceof SQLException sql && sql.getSQLState() == null) {
      return t.getCause() instanceof TimeoutException
          || (message != null && message.contains("acquisition timeout"));
    }
    return message != null
        && message.startsWith("Timeout waiting for connection")
        && t.getClass().getName().startsWith("io.vertx.");
  }
}
