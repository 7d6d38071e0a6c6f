package dev.tsm.task;

import dev.tsm.Config;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Runs tasks on this instance: claims PENDING tasks (and RUNNING ones whose owner's lease ran out)
 * up to the configured limit and starts a {@link Run} of each; drains them on shutdown.
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
  private final RunEnds runEnds;
  private final Jobs jobs;
  private final Config config;
  private final TaskMetrics metrics;
  private final TaskEvents events;
  private volatile boolean draining;
  private volatile long lastTick = System.nanoTime();

  TaskRunner(
      TaskStore store,
      RunEnds runEnds,
      Jobs jobs,
      Config config,
      TaskMetrics metrics,
      TaskEvents events) {
    this.store = store;
    this.events = events;
    this.runEnds = runEnds;
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
    events.onStopAsked(
        (id, state) -> {
          Run run = running.get(id);
          if (run != null) {
            run.stopNow(state);
          }
        });
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
        .replaceWithVoid()
        .onTermination()
        .invoke(() -> lastTick = System.nanoTime());
  }

  /**
   * Whether the runner still ticks: its leases renewed and its queue polled within a few poll
   * intervals. A runner that stopped ticking (a blocked event loop, a wedged scheduler) lets its
   * tasks' leases expire while the process looks alive; restarting it is the cure.
   */
  public boolean ticking() {
    long quiet = System.nanoTime() - lastTick;
    return quiet
        < Math.max(config.runner().pollInterval().multipliedBy(5).toNanos(), 30_000_000_000L);
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
    run.start(jobs.of(task.kind()), metrics, runEnds).whenComplete((result, e) -> forget(run));
  }

  private void forget(Run run) {
    running.remove(run.task.id(), run);
    dispatch();
  }

  /**
   * Graceful stop: each run commits its in-flight batch, then gives its task back (PENDING, no
   * owner) so another instance resumes it at once. Waits for those ends, at most the drain timeout.
   */
  void onStop(@Observes ShutdownEvent event) {
    draining = true;
    List<Run> runs = List.copyOf(running.values());
    runs.forEach(run -> run.stopAt(TaskState.PENDING));
    CompletableFuture<?>[] ends =
        runs.stream().map(Run::ended).filter(Objects::nonNull).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(ends)
          .get(config.runner().drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warnf("%d tasks still running at shutdown; their leases will expire", running.size());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      LOG.warnf("a run ended badly at shutdown: %s", e.getMessage());
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
}
