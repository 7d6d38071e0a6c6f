package dev.tsm.task;

import dev.tsm.Config;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Runs tasks on this instance: claims PENDING tasks (and RUNNING ones whose owner's lease ran out)
 * up to the configured limit, subscribes to each task's pipeline one batch at a time, and ends each
 * run as its checkpoints say: paused, terminated, completed or failed.
 */
@ApplicationScoped
public class TaskRunner {
  private static final Logger LOG = Logger.getLogger(TaskRunner.class);

  private final String instanceId =
      instanceName() + "-" + UUID.randomUUID().toString().substring(0, 8);
  private final Map<UUID, Run> running = new ConcurrentHashMap<>();
  private final AtomicBoolean dispatching = new AtomicBoolean();
  private final AtomicBoolean dispatchAgain = new AtomicBoolean();
  private final TaskStore store;
  private final TaskEnds ends;
  private final Jobs jobs;
  private final Config config;
  private final TaskMetrics metrics;
  private volatile boolean draining;

  TaskRunner(TaskStore store, TaskEnds ends, Jobs jobs, Config config, TaskMetrics metrics) {
    this.store = store;
    this.ends = ends;
    this.jobs = jobs;
    this.config = config;
    this.metrics = metrics;
  }

  public String instanceId() {
    return instanceId;
  }

  /** Tasks running on this instance now. */
  public int runningCount() {
    return running.size();
  }

  void onStart(@Observes StartupEvent event) {
    LOG.infof("task runner %s up: at most %d tasks at once", instanceId, maxTasks());
    dispatch();
  }

  @Scheduled(
      every = "${tsm.runner.poll-interval}",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  Uni<Void> tick() {
    // Each run owns its task under its own token (instance/run), so renew by the runs' tokens.
    List<String> owners = running.values().stream().map(run -> run.owner).toList();
    Uni<Integer> renew =
        owners.isEmpty()
            ? Uni.createFrom().item(0)
            : store.renewLeases(owners, config.runner().lease());
    return renew
        .onFailure()
        .invoke(e -> LOG.warnf("could not renew leases: %s", e.getMessage()))
        .onFailure()
        .recoverWithItem(0)
        .invoke(ignored -> dispatch())
        .flatMap(ignored -> store.counts())
        .invoke(metrics::tasks)
        .onFailure()
        .recoverWithNull()
        .replaceWithVoid();
  }

  /** Claims work while there is room. Cheap to call often: calls made meanwhile fold into one. */
  public void dispatch() {
    if (draining) {
      return;
    }
    if (!dispatching.compareAndSet(false, true)) {
      dispatchAgain.set(true);
      return;
    }
    dispatchAgain.set(false);
    fill()
        .subscribe()
        .with(
            ignored -> dispatched(),
            e -> {
              LOG.debugf("could not claim tasks: %s", e.getMessage());
              dispatched();
            });
  }

  private void dispatched() {
    dispatching.set(false);
    if (dispatchAgain.getAndSet(false)) {
      dispatch();
    }
  }

  private Uni<Void> fill() {
    if (draining || running.size() >= maxTasks()) {
      return Uni.createFrom().voidItem();
    }
    // A fresh owner token per run fences out anything still in flight from an earlier run.
    String owner = instanceId + "/" + UUID.randomUUID().toString().substring(0, 8);
    int maxCrashes = config.runner().maxCrashes();
    return store
        .claim(owner, config.runner().lease(), maxCrashes, poisonReason(maxCrashes))
        .flatMap(
            claim -> {
              if (claim == null) {
                return Uni.createFrom().voidItem();
              }
              if (claim.poisoned()) {
                TaskLog.warn(
                    LOG,
                    claim.task().id(),
                    "task %s failed: %s",
                    claim.task().id(),
                    claim.task().error());
                return fill();
              }
              if (claim.takeover()) {
                metrics.takeover();
                TaskLog.info(
                    LOG,
                    claim.task().id(),
                    "task %s: taken over after its owner's lease ran out",
                    claim.task().id());
              }
              start(claim.task(), owner);
              return fill();
            });
  }

  /** Why a task that keeps ending with its instance is not taken over again. */
  static String poisonReason(int maxCrashes) {
    return "the instance running this task stopped without handing it back "
        + maxCrashes
        + " times (killed, out of memory, or cut off past its lease): the task may be what brings"
        + " instances down, so it is not taken over again (tsm.runner.max-crashes = "
        + maxCrashes
        + "); check the service's logs, then resume it to run it again";
  }

  private void start(Task task, String owner) {
    Run run = new Run(task, owner);
    running.put(task.id(), run);
    TaskLog.info(
        LOG,
        task.id(),
        "task %s (%s %s) running from row %d",
        task.id(),
        task.kind(),
        task.table(),
        task.checkpoint().rowsDone());
    if (task.requestedState() != null) {
      // Asked to stop while no runner held it (its owner died): act on it before any batch.
      stopped(run, task.requestedState());
      return;
    }
    jobs.of(task.kind()).run(task, owner).subscribe().withSubscriber(run);
  }

  /** The pipeline stopped at a checkpoint because a stop was asked for. */
  private void stopped(Run run, TaskState stop) {
    Uni<?> end =
        stop == TaskState.TERMINATED
            ? blocking(() -> ends.terminate(run.task, run.owner))
            : store
                .release(run.task.id(), run.owner, stop, null)
                .flatMap(
                    task -> {
                      if (task == null && stop == TaskState.PAUSED) {
                        // A terminate came in after the pause was seen: it wins.
                        return blocking(() -> ends.terminate(run.task, run.owner));
                      }
                      if (task != null && stop == TaskState.PAUSED && task.requestedAt() != null) {
                        metrics.paused(
                            java.time.Duration.between(task.requestedAt(), task.updatedAt()));
                      }
                      return Uni.createFrom().item(task);
                    });
    finish(run, end, stop.name());
  }

  private void completed(Run run) {
    finish(run, blocking(() -> ends.complete(run.task, run.owner)), "done");
  }

  private void failed(Run run, Throwable failure) {
    if (failure instanceof LostTaskException) {
      TaskLog.warn(LOG, run.task.id(), "task %s: %s", run.task.id(), failure.getMessage());
      finish(run, Uni.createFrom().voidItem(), "lost");
      return;
    }
    String reason = Failures.describe(failure);
    UUID id = run.task.id();
    store
        .release(id, run.owner, TaskState.FAILED, reason)
        .subscribe()
        .with(
            released -> {
              if (released == null) {
                terminateInstead(run, reason);
                return;
              }
              TaskLog.warn(LOG, id, "task %s failed: %s", id, reason);
              TaskLog.info(LOG, id, "task %s: run ended (failed)", id);
              forget(run);
            },
            e -> {
              // The database is away: the lease runs out and a runner takes the task up again.
              TaskLog.warn(
                  LOG,
                  id,
                  "task %s failed: %s; could not record the failure: %s",
                  id,
                  reason,
                  e.getMessage());
              forget(run);
            });
  }

  /**
   * A failed run whose task was not released: a terminate was asked meanwhile (it wins over the
   * failure), or another run holds the task now (this one was frozen or cut off past its lease) and
   * the failure is this stale run's, not the task's.
   */
  private void terminateInstead(Run run, String reason) {
    UUID id = run.task.id();
    blocking(() -> ends.terminate(run.task, run.owner, reason))
        .subscribe()
        .with(
            terminated -> {
              if (terminated) {
                TaskLog.info(
                    LOG, id, "task %s: run ended (terminated; it had failed: %s)", id, reason);
              } else {
                TaskLog.warn(
                    LOG,
                    id,
                    "task %s: lost to another run; this run's failure is not recorded: %s",
                    id,
                    reason);
                TaskLog.info(LOG, id, "task %s: run ended (lost)", id);
              }
              forget(run);
            },
            e -> {
              // The lease runs out and a runner takes the task up again, terminate included.
              TaskLog.warn(LOG, id, "task %s: could not end the run: %s", id, e.getMessage());
              forget(run);
            });
  }

  private void finish(Run run, Uni<?> end, String what) {
    end.subscribe()
        .with(
            result -> {
              TaskLog.info(LOG, run.task.id(), "task %s: run ended (%s)", run.task.id(), what);
              forget(run);
            },
            e -> {
              // An end that cannot be written becomes FAILED; if even that cannot be written (the
              // database is away), the lease runs out and a runner takes the task up again.
              TaskLog.warn(
                  LOG,
                  run.task.id(),
                  "task %s: could not end the run: %s",
                  run.task.id(),
                  e.getMessage());
              failedEnd(run, e);
            });
  }

  private void failedEnd(Run run, Throwable e) {
    String reason = Failures.describe(e);
    store
        .release(run.task.id(), run.owner, TaskState.FAILED, reason)
        .subscribe()
        .with(ignored -> forget(run), ignored -> forget(run));
  }

  private void forget(Run run) {
    running.remove(run.task.id(), run);
    dispatch();
  }

  private static <T> Uni<T> blocking(java.util.function.Supplier<T> work) {
    return Uni.createFrom().item(work).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
  }

  /**
   * Graceful stop: each run commits its in-flight batch, then gives its task back (PENDING, no
   * owner) so another instance resumes it at once.
   */
  void onStop(@Observes ShutdownEvent event) {
    draining = true;
    running.values().forEach(run -> run.localStop = TaskState.PENDING);
    long deadline = System.nanoTime() + config.runner().drainTimeout().toNanos();
    while (!running.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (!running.isEmpty()) {
      LOG.warnf("%d tasks still running at shutdown; their leases will expire", running.size());
    }
  }

  private int maxTasks() {
    return config.runner().maxConcurrentTasks();
  }

  private static String instanceName() {
    String host = System.getenv("HOSTNAME");
    if (host != null && !host.isBlank()) {
      return host;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "instance";
    }
  }

  /** One run of one task: demands one committed batch at a time. */
  private final class Run implements Flow.Subscriber<Committed> {
    final Task task;
    final String owner;
    volatile TaskState localStop;
    private Flow.Subscription subscription;
    private Checkpoint last;
    // Two batches in flight can both fail (the database went away, the run was fenced out); the
    // run ends once, on the first signal that ends it.
    private final AtomicBoolean ended = new AtomicBoolean();

    Run(Task task, String owner) {
      this.task = task;
      this.owner = owner;
      this.last = task.checkpoint();
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(1);
    }

    @Override
    public void onNext(Committed committed) {
      Checkpoint now = committed.checkpoint();
      metrics.moved(
          task.kind(),
          now.rowsDone() - last.rowsDone(),
          Math.max(0, now.bytesDone() - last.bytesDone()));
      last = now;
      TaskState stop = committed.requested() != null ? committed.requested() : localStop;
      if (stop == null) {
        subscription.request(1);
        return;
      }
      subscription.cancel();
      if (ended.compareAndSet(false, true)) {
        stopped(this, stop);
      }
    }

    @Override
    public void onError(Throwable failure) {
      if (ended.compareAndSet(false, true)) {
        failed(this, failure);
      } else {
        LOG.debugf("task %s: after the end of its run: %s", task.id(), failure.getMessage());
      }
    }

    @Override
    public void onComplete() {
      if (ended.compareAndSet(false, true)) {
        completed(this);
      }
    }
  }
}
