package dev.tsm.importing;

import dev.tsm.task.ExplainedFailure;
import java.util.List;

/**
 * A row the import cannot take while its policy says fail (or its maxErrors is used up). It carries
 * the bad rows that made the task fail: its batch rolls back, so they are recorded apart. Its
 * message is the task's error as it is, and a stack trace would tell its reader nothing more.
 */
class BadRowException extends RuntimeException implements ExplainedFailure {
  private final transient List<Rejects.Reject> rejects;

  BadRowException(String message, List<Rejects.Reject> rejects) {
    super(message);
    this.rejects = List.copyOf(rejects);
  }

  List<Rejects.Reject> rejects() {
    return rejects;
  }
}
