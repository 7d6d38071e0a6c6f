package dev.tsm.task;

import java.io.IOException;
import java.net.ConnectException;
import java.sql.SQLException;

/** Says why a run failed in words an operator can act on, without stack traces. */
final class Failures {
  private Failures() {}

  static String describe(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        if (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P")) {
          return "the database connection was lost ("
              + sql.getMessage()
              + "); resume the task"
              + " once the database is back";
        }
        return "database error: " + sql.getMessage();
      }
      if (t instanceof ConnectException || t instanceof java.nio.channels.ClosedChannelException) {
        return "the database cannot be reached ("
            + t.getMessage()
            + "); resume the task once it"
            + " is back";
      }
      if (t instanceof IOException io) {
        return "file error: " + io.getMessage();
      }
    }
    String message = failure.getMessage();
    return message == null ? failure.getClass().getSimpleName() : message;
  }
}
