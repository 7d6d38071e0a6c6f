package dev.tsm.task;

import dev.tsm.Config;
import dev.tsm.Refusal;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Task changes from every replica: PostgreSQL announces each change (a trigger NOTIFYs {@code
 * tsm_task}); this instance LISTENs, loads the changed tasks a few times a second in one query, and
 * hands them to its subscribers' feeds. A pause or terminate asked of a running task is announced
 * apart ({@code tsm_stop}, with the state asked) and handed on at once, to the runner. A watcher of
 * one task ({@link #watch}) is told of each change at once, without its content.
 */
@ApplicationScoped
public class TaskEvents {
  private static final Logger LOG = Logger.getLogger(TaskEvents.class);
  private static final long FLUSH_MILLIS = 200;

  /** The feeds' clock: each sends what changed at most once a tick (four events a second). */
  private static final long TICK_MILLIS = 250;

  private final Set<TaskFeed> feeds = ConcurrentHashMap.newKeySet();
  private final Set<UUID> changed = ConcurrentHashMap.newKeySet();
  private final List<BiConsumer<UUID, TaskState>> stopListeners = new CopyOnWriteArrayList<>();
  private final Map<UUID, Set<Runnable>> watchers = new ConcurrentHashMap<>();
  private final TaskStore store;
  private final Config config;
  private final Vertx vertx;
  private final String url;
  private final String user;
  private final String password;
  private PgSubscriber subscriber;
  private long timer = -1;
  private long ticker = -1;

  TaskEvents(
      TaskStore store,
      TaskMetrics metrics,
      Config config,
      Vertx vertx,
      @ConfigProperty(name = "quarkus.datasource.reactive.url") String url,
      @ConfigProperty(name = "quarkus.datasource.username") java.util.Optional<String> user,
      @ConfigProperty(name = "quarkus.datasource.password") java.util.Optional<String> password) {
    this.store = store;
    this.config = config;
    this.vertx = vertx;
    metrics.subscribers(feeds::size);
    this.url = url;
    this.user = user.orElse(null);
    this.password = password.orElse(null);
  }

  void start(@Observes StartupEvent event) {
    PgConnectOptions options = PgConnectOptions.fromUri(url.replaceFirst("^vertx-reactive:", ""));
    if (user != null) {
      options.setUser(user);
    }
    if (password != null) {
      options.setPassword(password);
    }
    subscriber = PgSubscriber.subscriber(vertx, options).reconnectPolicy(retries -> 1000L);
    subscriber.channel("tsm_task").handler(this::changed);
    subscriber.channel("tsm_stop").handler(this::stopAsked);
    subscriber
        .connect()
        .onFailure(e -> LOG.warnf("cannot LISTEN for task changes yet: %s", e.getMessage()));
    timer = vertx.setPeriodic(FLUSH_MILLIS, id -> flush());
    ticker = vertx.setPeriodic(TICK_MILLIS, id -> feeds.forEach(TaskFeed::tick));
  }

  void stop(@Observes ShutdownEvent event) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (ticker >= 0) {
      vertx.cancelTimer(ticker);
    }
    if (subscriber != null) {
      subscriber.close();
    }
  }

  /**
   * Calls {@code listener} (on an event loop: it must not block) each time a pause or terminate is
   * asked of a running task, on any replica, with the task and the state asked.
   */
  public void onStopAsked(BiConsumer<UUID, TaskState> listener) {
    stopListeners.add(listener);
  }

  /**
   * Calls {@code wake} (on an event loop: it must not block) each time task {@code id} changes, on
   * any replica, until the returned handle is run. Only a nudge: the watcher reads the task itself,
   * and reads it now and then anyway (a notice is lost while the LISTEN connection reconnects).
   */
  public Runnable watch(UUID id, Runnable wake) {
    watchers.computeIfAbsent(id, key -> ConcurrentHashMap.newKeySet()).add(wake);
    return () ->
        watchers.computeIfPresent(
            id,
            (key, wakes) -> {
              wakes.remove(wake);
              return wakes.isEmpty() ? null : wakes;
            });
  }

  private void changed(String payload) {
    if (feeds.isEmpty() && watchers.isEmpty()) {
      return;
    }
    UUID id;
    try {
      id = UUID.fromString(payload);
    } catch (IllegalArgumentException e) {
      LOG.debugf("ignored a change notice: %s", payload);
      return;
    }
    if (!feeds.isEmpty()) {
      changed.add(id);
    }
    Set<Runnable> wakes = watchers.get(id);
    if (wakes != null) {
      wakes.forEach(Runnable::run);
    }
  }

  private void stopAsked(String payload) {
    String[] parts = payload.split(" ", 2);
    try {
      UUID id = UUID.fromString(parts[0]);
      TaskState state = TaskState.valueOf(parts[1]);
      stopListeners.forEach(listener -> listener.accept(id, state));
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      LOG.debugf("ignored a stop notice: %s", payload);
    }
  }

  /**
   * A feed of the changes of the tasks that pass {@code filter}; closed when its stream ends.
   *
   * @throws Refusal (busy) when this instance has as many feeds open as it may
   */
  public TaskFeed open(Predicate<Task> filter) {
    synchronized (feeds) {
      if (feeds.size() >= config.events().maxStreams()) {
        throw Refusal.busy(
            "this instance has "
                + feeds.size()
                + " event streams open, as many as it may (tsm.events.max-streams): try again"
                + " later or on another instance",
            5);
      }
      TaskFeed feed = new TaskFeed(filter, feeds::remove, this::minGapNanos);
      feeds.add(feed);
      return feed;
    }
  }

  /** The budget of events a second shared by the open feeds: each feed's least spacing. */
  private long minGapNanos() {
    return feeds.size() * 1_000_000_000L / Math.max(1, config.events().maxPerSecond());
  }

  private void flush() {
    if (changed.isEmpty()) {
      return;
    }
    List<UUID> ids = new ArrayList<>(changed);
    changed.removeAll(ids);
    store
        .findAll(ids)
        .subscribe()
        .with(
            tasks -> tasks.forEach(task -> feeds.forEach(feed -> feed.offer(task))),
            e -> {
              changed.addAll(ids);
              LOG.debugf("cannot load changed tasks: %s", e.getMessage());
            });
  }
}
