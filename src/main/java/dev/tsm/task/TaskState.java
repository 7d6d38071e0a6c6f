package dev.tsm.task;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a task: {@code PENDING -> RUNNING -> (PAUSED <-> RUNNING) -> COMPLETED | FAILED |
 * TERMINATED}. The rules live here; transitions are persisted with a compare-and-set on the state.
 */
public enum TaskState {
  PENDING,
  RUNNING,
  PAUSED,
  COMPLETED,
  FAILED,
  TERMINATED;

  static {
    PENDING.next = EnumSet.of(RUNNING, PAUSED, TERMINATED);
    // RUNNING -> PENDING: the owner let it go (shutdown) so another instance picks it up.
    RUNNING.next = EnumSet.of(PENDING, PAUSED, COMPLETED, FAILED, TERMINATED);
    // Resume queues the task again: it runs when a slot is free.
    PAUSED.next = EnumSet.of(PENDING, TERMINATED);
    FAILED.next = EnumSet.of(PENDING, TERMINATED);
    COMPLETED.next = EnumSet.noneOf(TaskState.class);
    TERMINATED.next = EnumSet.noneOf(TaskState.class);
  }

  private Set<TaskState> next;

  public boolean canMoveTo(TaskState target) {
    return next.contains(target);
  }

  /** Nothing can happen to the task any more. */
  public boolean isFinal() {
    return next.isEmpty();
  }

  /** A stop request (pause, terminate) is a signal to the runner, not a direct transition. */
  public boolean takesRequests() {
    return this == RUNNING;
  }
}
