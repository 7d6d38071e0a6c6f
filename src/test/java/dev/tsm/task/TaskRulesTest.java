package dev.tsm.task;

import static dev.tsm.task.TaskAction.PAUSE;
import static dev.tsm.task.TaskAction.RESUME;
import static dev.tsm.task.TaskAction.TERMINATE;
import static dev.tsm.task.TaskState.COMPLETED;
import static dev.tsm.task.TaskState.FAILED;
import static dev.tsm.task.TaskState.PAUSED;
import static dev.tsm.task.TaskState.PENDING;
import static dev.tsm.task.TaskState.RUNNING;
import static dev.tsm.task.TaskState.TERMINATED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The state machine and the commands each state accepts, as the README and the page state them. */
class TaskRulesTest {

  @Test
  void transitionsAreThoseOfTheDocumentedMachine() {
    Map<TaskState, Set<TaskState>> expected =
        Map.of(
            PENDING, EnumSet.of(RUNNING, PAUSED, TERMINATED),
            RUNNING, EnumSet.of(PENDING, PAUSED, COMPLETED, FAILED, TERMINATED),
            PAUSED, EnumSet.of(PENDING, TERMINATED),
            FAILED, EnumSet.of(PENDING, TERMINATED),
            COMPLETED, EnumSet.noneOf(TaskState.class),
            TERMINATED, EnumSet.noneOf(TaskState.class));
    for (TaskState from : TaskState.values()) {
      Set<TaskState> allowed = EnumSet.noneOf(TaskState.class);
      for (TaskState to : TaskState.values()) {
        if (from.canMoveTo(to)) {
          allowed.add(to);
        }
      }
      assertEquals(expected.get(from), allowed, "from " + from);
      assertEquals(allowed.isEmpty(), from.isFinal(), from + " final");
      assertEquals(from == RUNNING, from.takesRequests(), from + " takes requests");
    }
  }

  @Test
  void eachStateAcceptsTheCommandsThatChangeSomething() {
    assertEquals(EnumSet.of(PAUSE, TERMINATE), TaskAction.allowed(PENDING, null));
    assertEquals(EnumSet.of(PAUSE, TERMINATE), TaskAction.allowed(RUNNING, null));
    // A pause not yet taken effect can be withdrawn (resume) or overtaken (terminate).
    assertEquals(EnumSet.of(RESUME, TERMINATE), TaskAction.allowed(RUNNING, PAUSED));
    // A terminate under way takes nothing more.
    assertEquals(EnumSet.noneOf(TaskAction.class), TaskAction.allowed(RUNNING, TERMINATED));
    assertEquals(EnumSet.of(RESUME, TERMINATE), TaskAction.allowed(PAUSED, null));
    assertEquals(EnumSet.of(RESUME, TERMINATE), TaskAction.allowed(FAILED, null));
    assertEquals(EnumSet.noneOf(TaskAction.class), TaskAction.allowed(COMPLETED, null));
    assertEquals(EnumSet.noneOf(TaskAction.class), TaskAction.allowed(TERMINATED, null));
  }

  @Test
  void noCommandIsOfferedThatItsTransitionForbids() {
    for (TaskState state : TaskState.values()) {
      for (TaskState requested : new TaskState[] {null, PAUSED, TERMINATED}) {
        for (TaskAction action : TaskAction.allowed(state, requested)) {
          boolean possible =
              switch (action) {
                case PAUSE -> state.canMoveTo(PAUSED);
                case RESUME -> state.canMoveTo(PENDING) || state == RUNNING;
                case TERMINATE -> state.canMoveTo(TERMINATED);
              };
          assertEquals(true, possible, action + " offered in " + state + "/" + requested);
        }
      }
    }
  }
}
