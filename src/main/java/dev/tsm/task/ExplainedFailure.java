package dev.tsm.task;

/**
 * A failure whose message is written for the task's user, whatever raised it: it becomes the task's
 * error as it is.
 */
public interface ExplainedFailure {
  String getMessage();
}
