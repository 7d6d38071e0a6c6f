package dev.tsm.task;

import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.UUID;

/**
 * The commands a client gives a task. Pause and terminate of a RUNNING task are requests its owner
 * acts on as soon as it hears of them (202: the state says when it took effect); elsewhere the
 * transition happens at once. Every change is a compare-and-set: on a lost race the command is
 * judged again against the state that won.
 */
@ApplicationScoped
public class TaskService {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(TaskService.class);
  private static final int MAX_RACES = 5;

  private final TaskStore store;
  private final TaskEnds ends;
  private final TaskRunner runner;

  TaskService(TaskStore store, TaskEnds ends, TaskRunner runner) {
    this.store = store;
    this.ends = ends;
    this.runner = runner;
  }

  /**
   * The task, if it is the caller's (or the caller administers): another owner's task is answered
   * exactly as one that does not exist.
   */
  public Uni<Task> get(Caller caller, UUID id) {
    return store
        .find(id)
        .onItem()
        .ifNull()
        .failWith(() -> noSuchTask(id))
        .invoke(
            task -> {
              if (!caller.owns(task.createdBy())) {
                throw noSuchTask(id);
              }
            });
  }

  private static Refusal noSuchTask(UUID id) {
    return Refusal.notFound("there is no task " + id);
  }

  /** The caller's tasks (every task for an administrator), newest first, optionally filtered. */
  public Uni<List<Task>> list(Caller caller, TaskState state, TaskKind kind, int limit) {
    return list(caller, state, kind, null, limit);
  }

  /** The caller's tasks after task {@code before} (null: from the newest), newest first. */
  public Uni<List<Task>> list(
      Caller caller, TaskState state, TaskKind kind, UUID before, int limit) {
    return store.list(state, kind, caller.admin() ? null : caller.subject(), before, limit);
  }

  /** The caller's unfinished tasks, then its newest finished ones: at most {@code limit}. */
  public Uni<List<Task>> snapshot(Caller caller, int limit) {
    return store.snapshot(caller.admin() ? null : caller.subject(), limit);
  }

  /** The caller's newest task of a kind, or a 404 when there is none yet. */
  public Uni<Task> latest(Caller caller, TaskKind kind) {
    return list(caller, null, kind, 1)
        .map(tasks -> tasks.isEmpty() ? null : tasks.get(0))
        .onItem()
        .ifNull()
        .failWith(
            () ->
                Refusal.notFound(
                    "there is no " + kind.name().toLowerCase() + " task yet; start one first"));
  }

  /**
   * A RUNNING task of the caller's is asked to pause in one statement: a pause comes while the task
   * keeps the database busy, where each round trip costs most. Any other is judged on the task as
   * read, as every command is.
   */
  public Uni<Task> pause(Caller caller, UUID id) {
    Uni<Task> asked =
        store
            .request(
                id,
                TaskState.PAUSED,
                null,
                new TaskStore.By("pause", caller.subject()),
                only(caller))
            .flatMap(
                task ->
                    task != null
                        ? Uni.createFrom().item(task)
                        : get(caller, id)
                            .flatMap(found -> pause(found, caller.subject(), MAX_RACES)));
    return logged("pause", caller, asked);
  }

  /** Whose tasks a command of {@code caller}'s may change in one statement: null for any. */
  private static String only(Caller caller) {
    return caller.admin() ? null : caller.subject();
  }

  public Uni<Task> resume(Caller caller, UUID id) {
    return resume(caller, id, null);
  }

  /**
   * Resumes with some of an import's options changed ({@code changes}, null for none): a failed
   * import can go on with another bad-row policy. Only a PAUSED or FAILED import takes changes.
   */
  public Uni<Task> resume(Caller caller, UUID id, JsonObject changes) {
    Uni<Task> judged =
        get(caller, id)
            .flatMap(
                task -> {
                  if (changes != null && task.kind() != TaskKind.IMPORT) {
                    return Uni.createFrom()
                        .failure(
                            Refusal.invalid(
                                "task " + id + " is an export: only an import's options change"));
                  }
                  if (changes != null && task.state() == TaskState.RUNNING) {
                    return refuse(task, "resumed with other options while it runs");
                  }
                  return resume(task, caller.subject(), changes, MAX_RACES);
                });
    if (changes != null) {
      return logged("resume", caller, judged);
    }
    // A PAUSED task of the caller's resumes in one statement (as a pause is asked); any other is
    // judged on the task as read.
    Uni<Task> resumed =
        store
            .move(
                id,
                TaskState.PAUSED,
                TaskState.PENDING,
                new TaskStore.By("resume", caller.subject()),
                null,
                only(caller))
            .flatMap(
                task -> {
                  if (task == null) {
                    return judged;
                  }
                  runner.dispatch();
                  return Uni.createFrom().item(task);
                });
    return logged("resume", caller, resumed);
  }

  public Uni<Task> terminate(Caller caller, UUID id) {
    return logged(
        "terminate",
        caller,
        get(caller, id).flatMap(task -> terminate(task, caller.subject(), null, MAX_RACES)));
  }

  /** Each accepted command is logged with the subject that gave it. */
  private static Uni<Task> logged(String command, Caller caller, Uni<Task> accepted) {
    return accepted.invoke(
        task ->
            TaskLog.info(
                LOG,
                task.id(),
                "task %s: %s by %s (now %s)",
                task.id(),
                command,
                caller.subject(),
                task.state()));
  }

  /** Terminates a task for a reason of the service's own, recorded as its error. */
  public Uni<Task> terminate(UUID id, String reason) {
    return get(Caller.SERVICE, id)
        .flatMap(task -> terminate(task, Caller.SERVICE.subject(), reason, MAX_RACES));
  }

  private Uni<Task> pause(Task task, String by, int tries) {
    Command again = (fresh, left) -> pause(fresh, by, left);
    TaskStore.By command = new TaskStore.By("pause", by);
    if (task.state().takesRequests() && task.requestedState() != TaskState.TERMINATED) {
      return retryIfRaced(
          store.request(task.id(), TaskState.PAUSED, null, command), task, tries, again);
    }
    if (!task.state().canMoveTo(TaskState.PAUSED) || task.state().takesRequests()) {
      return refuse(task, "paused");
    }
    return retryIfRaced(
        store.move(task.id(), task.state(), TaskState.PAUSED, command), task, tries, again);
  }

  private Uni<Task> resume(Task task, String by, JsonObject changes, int tries) {
    Command again = (fresh, left) -> resume(fresh, by, changes, left);
    TaskStore.By command = new TaskStore.By("resume", by);
    if (task.state() == TaskState.RUNNING && task.requestedState() == TaskState.PAUSED) {
      return retryIfRaced(store.withdrawPause(task.id(), command), task, tries, again);
    }
    if (!task.state().canMoveTo(TaskState.PENDING) || task.state() == TaskState.RUNNING) {
      return refuse(task, "resumed");
    }
    return retryIfRaced(
            store.move(task.id(), task.state(), TaskState.PENDING, command, changes, null),
            task,
            tries,
            again)
        .invoke(runner::dispatch);
  }

  private Uni<Task> terminate(Task task, String by, String reason, int tries) {
    Command again = (fresh, left) -> terminate(fresh, by, reason, left);
    TaskStore.By command = new TaskStore.By("terminate", by);
    if (task.state().takesRequests()) {
      return retryIfRaced(
          store.request(task.id(), TaskState.TERMINATED, reason, command), task, tries, again);
    }
    if (!task.state().canMoveTo(TaskState.TERMINATED)) {
      return refuse(task, "terminated");
    }
    Uni<Task> undo =
        Uni.createFrom()
            .item(() -> ends.terminate(task, null, reason, command))
            .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
            .flatMap(done -> done ? store.find(task.id()) : Uni.createFrom().nullItem());
    return retryIfRaced(undo, task, tries, again);
  }

  private interface Command {
    Uni<Task> apply(Task task, int tries);
  }

  /** A null result means another request or replica changed the task first: judge again. */
  private Uni<Task> retryIfRaced(Uni<Task> change, Task task, int tries, Command command) {
    return change.flatMap(
        changed -> {
          if (changed != null) {
            return Uni.createFrom().item(changed);
          }
          if (tries == 0) {
            return Uni.createFrom()
                .failure(Refusal.conflict("task " + task.id() + " keeps changing; retry"));
          }
          return store
              .find(task.id())
              .onItem()
              .ifNull()
              .failWith(() -> noSuchTask(task.id()))
              .flatMap(fresh -> command.apply(fresh, tries - 1));
        });
  }

  private static Uni<Task> refuse(Task task, String verb) {
    String detail =
        task.requestedState() == TaskState.TERMINATED
            ? "task " + task.id() + " is being terminated and cannot be " + verb
            : "task " + task.id() + " is " + task.state() + " and cannot be " + verb;
    return Uni.createFrom().failure(new TransitionRefused(task, detail));
  }

  /** 409: the command does not apply to the task's current state, which the problem names. */
  public static class TransitionRefused extends Refusal {
    private final transient Task task;

    public TransitionRefused(Task task, String detail) {
      super(Reason.CONFLICT, detail);
      this.task = task;
    }

    public Task task() {
      return task;
    }
  }
}
