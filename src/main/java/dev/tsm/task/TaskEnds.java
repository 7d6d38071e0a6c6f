package dev.tsm.task;

import dev.tsm.db.Transactions;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The two ends that change more than the task row, each in one transaction with the row locked:
 * completion (the job publishes its result) and termination (the job undoes its work). Blocking:
 * call on a worker thread.
 */
@ApplicationScoped
public class TaskEnds {
  private static final Logger LOG = Logger.getLogger(TaskEnds.class);

  private final Transactions transactions;
  private final TaskStore store;
  private final Jobs jobs;

  TaskEnds(Transactions transactions, TaskStore store, Jobs jobs) {
    this.transactions = transactions;
    this.store = store;
    this.jobs = jobs;
  }

  /** What became of a run that reached the end of its data. */
  public enum Outcome {
    COMPLETED,
    TERMINATED,
    LOST
  }

  /**
   * Publishes the result and marks the task COMPLETED, unless a terminate arrived first. If
   * publishing fails, nothing is published and the exception says why.
   */
  public Outcome complete(Task task, String owner) {
    Job job = jobs.of(task.kind());
    Outcome outcome =
        transactions.inTransaction(
            c -> {
              job.lock(c, task);
              TaskStore.Locked locked = store.lock(c, task.id());
              if (locked == null
                  || locked.state() != TaskState.RUNNING
                  || !owner.equals(locked.owner())) {
                return Outcome.LOST;
              }
              if (locked.requested() == TaskState.TERMINATED) {
                job.discard(c, task);
                store.end(c, task.id(), TaskState.TERMINATED, null);
                return Outcome.TERMINATED;
              }
              job.publish(c, task);
              store.end(c, task.id(), TaskState.COMPLETED, null);
              return Outcome.COMPLETED;
            });
    if (outcome != Outcome.LOST) {
      job.cleanFiles(task, TaskState.valueOf(outcome.name()));
    }
    return outcome;
  }

  /**
   * Undoes a task and marks it TERMINATED. With an owner, only that owner's run may be ended;
   * without, only a task no runner holds (PENDING, PAUSED, FAILED). Returns false, changing
   * nothing, when the task is in no state to be terminated this way.
   */
  public boolean terminate(Task task, String owner) {
    return terminate(task, owner, null);
  }

  /** As {@link #terminate(Task, String)}, recording why as the task's error. */
  public boolean terminate(Task task, String owner, String reason) {
    return terminate(task, owner, reason, null);
  }

  /** As {@link #terminate(Task, String, String)}, recording the command and who gave it. */
  public boolean terminate(Task task, String owner, String reason, TaskStore.By by) {
    return terminate(
        task,
        locked ->
            owner == null
                ? locked.state().canMoveTo(TaskState.TERMINATED) && !locked.state().takesRequests()
                : locked.state() == TaskState.RUNNING && owner.equals(locked.owner()),
        reason,
        by);
  }

  /**
   * Terminates a FAILED task as it was read, for {@code reason}: false, changing nothing, if it
   * changed since (resumed, failed again).
   */
  public boolean terminateFailed(Task task, String reason) {
    return terminate(
        task,
        locked ->
            locked.state() == TaskState.FAILED
                && locked.updatedAt() != null
                && locked.updatedAt().isEqual(task.updatedAt()),
        reason,
        null);
  }

  private boolean terminate(
      Task task, Predicate<TaskStore.Locked> allowed, String reason, TaskStore.By by) {
    Job job = jobs.of(task.kind());
    boolean done =
        transactions.inTransaction(
            c -> {
              job.lock(c, task);
              TaskStore.Locked locked = store.lock(c, task.id());
              if (locked == null || !allowed.test(locked)) {
                return false;
              }
              job.discard(c, task);
              store.end(c, task.id(), TaskState.TERMINATED, reason);
              if (by != null) {
                store.recordCommand(c, task.id(), by);
              }
              return true;
            });
    if (done) {
      job.cleanFiles(task, TaskState.TERMINATED);
      TaskLog.info(LOG, task.id(), "task %s terminated: its work was undone", task.id());
    }
    return done;
  }
}
