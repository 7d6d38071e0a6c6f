package dev.tsm.task;

import dev.tsm.db.DatabaseErrors;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.NoSuchFileException;
import java.sql.SQLException;

/** Says why a run failed in words an operator can act on, without stack traces. */
final class Failures {
  private Failures() {}

  /** Whether the failure says all there is (bad input, a limit): no stack trace helps with it. */
  static boolean explained(Throwable failure) {
    return explanation(failure) != null;
  }

  static String describe(Throwable failure) {
    Throwable explained = explanation(failure);
    if (explained != null) {
      return explained.getMessage();
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        if (DatabaseErrors.unreachable(sql)) {
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
        return "file error: " + fileProblem(failure, io);
      }
    }
    String message = failure.getMessage();
    return message == null ? failure.getClass().getSimpleName() : message;
  }

  /** The first failure in the chain that says all there is, or null. */
  private static Throwable explanation(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ExplainedFailure) {
        return t;
      }
    }
    return null;
  }

  /**
   * The words of the nearest wrapper that has its own ("the staged file of this import is gone:
   * ..."), with the file system's detail if they lack it: a missing file's exception says no more
   * than its path.
   */
  private static String fileProblem(Throwable failure, IOException io) {
    String detail =
        io instanceof NoSuchFileException ? "no such file: " + io.getMessage() : io.getMessage();
    for (Throwable w = failure; w != null && w != io; w = w.getCause()) {
      String own = w.getMessage();
      if (own != null && (w.getCause() == null || !own.equals(w.getCause().toString()))) {
        return io.getMessage() != null && own.contains(io.getMessage()) ? own : own + ": " + detail;
      }
    }
    return detail;
  }
}
