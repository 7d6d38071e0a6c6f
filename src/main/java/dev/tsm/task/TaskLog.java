package dev.tsm.task;

import java.util.UUID;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/** Log lines about a task carry its id as a field (taskId), whatever thread writes them. */
public final class TaskLog {
  private TaskLog() {}

  public static void info(Logger log, UUID taskId, String format, Object... args) {
    write(log, Logger.Level.INFO, taskId, null, format, args);
  }

  public static void warn(Logger log, UUID taskId, String format, Object... args) {
    write(log, Logger.Level.WARN, taskId, null, format, args);
  }

  public static void warn(Logger log, UUID taskId, Throwable cause, String format, Object... args) {
    write(log, Logger.Level.WARN, taskId, cause, format, args);
  }

  private static void write(
      Logger log, Logger.Level level, UUID taskId, Throwable cause, String format, Object... args) {
    Object previous = MDC.get("taskId");
    MDC.put("taskId", String.valueOf(taskId));
    try {
      log.logf(level, cause, format, args);
    } finally {
      if (previous == null) {
        MDC.remove("taskId");
      } else {
        MDC.put("taskId", previous);
      }
    }
  }
}
