package dev.tsm.task;

import java.util.EnumSet;
import java.util.Set;

/** The commands a client may give a task now; the rules live here, once, for the API and page. */
public enum TaskAction {
  PAUSE,
  RESUME,
  TERMINATE;

  /** What a task in {@code state}, with {@code requested} pending (or null), accepts. */
  public static Set<TaskAction> allowed(TaskState state, TaskState requested) {
    Set<TaskAction> actions = EnumSet.noneOf(TaskAction.class);
    boolean stopping = requested != null;
    if (state == TaskState.PENDING || (state == TaskState.RUNNING && !stopping)) {
      actions.add(PAUSE);
    }
    // A pause asked of a running task and not yet taken effect can be withdrawn.
    if (state == TaskState.PAUSED
        || state == TaskState.FAILED
        || (state == TaskState.RUNNING && requested == TaskState.PAUSED)) {
      actions.add(RESUME);
    }
    if (state.canMoveTo(TaskState.TERMINATED) && requested != TaskState.TERMINATED) {
      actions.add(TERMINATE);
    }
    return actions;
  }
}
