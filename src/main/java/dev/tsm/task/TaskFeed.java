package dev.tsm.task;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.BackPressureStrategy;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * One subscriber's view of task changes. Latest wins per task: a slow subscriber holds at most one
 * pending state per task, never a queue, and never slows a task. Changes go out at most once per
 * tick of the instance's clock, or further apart when the instance's event budget is shared by many
 * feeds ({@code minGapNanos}); after {@code heartbeat} of silence a {@link #HEARTBEAT} keeps
 * proxies from closing the stream.
 */
public final class TaskFeed {
  /** Sent when nothing changed for a while (a marker: compare by identity). */
  public static final Task HEARTBEAT =
      new Task(
          null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
          null, null, null, null, null, null, null, null, null, null, null, null, null, null, 0);

  private final Predicate<Task> filter;
  private final Consumer<TaskFeed> onClose;
  private final LongSupplier minGapNanos;
  private final Map<UUID, Task> pending = new LinkedHashMap<>();
  private long lastSent = System.nanoTime(); // the stream opens with the current state
  private volatile MultiEmitter<? super List<Task>> emitter; // once its stream is subscribed
  private volatile Duration heartbeat;

  TaskFeed(Predicate<Task> filter, Consumer<TaskFeed> onClose, LongSupplier minGapNanos) {
    this.filter = filter;
    this.onClose = onClose;
    this.minGapNanos = minGapNanos;
  }

  /** Stops the feed before its stream was ever subscribed. */
  public void close() {
    onClose.accept(this);
  }

  void offer(Task task) {
    if (filter.test(task)) {
      synchronized (pending) {
        pending.put(task.id(), task);
      }
    }
  }

  /**
   * The changes, as lists: a list of tasks, or a list holding {@link #HEARTBEAT}; sent on the
   * instance's ticks ({@link #tick}). A tick the subscriber cannot take sends nothing: what it
   * would have carried waits in the map.
   */
  public Multi<List<Task>> changes(Duration heartbeat) {
    return Multi.createFrom()
        .<List<Task>>emitter(
            e -> {
              this.heartbeat = heartbeat;
              this.emitter = e;
            },
            BackPressureStrategy.DROP)
        .onTermination()
        .invoke(
            () -> {
              emitter = null;
              onClose.accept(this);
            });
  }

  /**
   * One tick of the instance's clock, which ticks every feed: one timer for hundreds of streams,
   * not one each (each woke a thread four times a second: 2,000 wake-ups a second for 500 idle
   * streams, about a quarter of the CPU they cost beside an import in a diagnostic run). Called
   * from that clock only, so sends never overlap.
   */
  void tick() {
    MultiEmitter<? super List<Task>> e = emitter;
    if (e == null || e.isCancelled() || e.requested() <= 0) {
      return;
    }
    List<Task> batch = drain(heartbeat);
    if (!batch.isEmpty()) {
      e.emit(batch);
    }
  }

  List<Task> drain(Duration heartbeat) {
    long now = System.nanoTime();
    List<Task> out;
    synchronized (pending) {
      if (pending.isEmpty() || now - lastSent < minGapNanos.getAsLong()) {
        // Too soon after the last send: what changed waits (latest wins) for a later tick.
        out = new ArrayList<>(1);
      } else {
        out = new ArrayList<>(pending.values());
        pending.clear();
      }
    }
    if (out.isEmpty() && now - lastSent >= heartbeat.toNanos()) {
      out.add(HEARTBEAT);
    }
    if (!out.isEmpty()) {
      lastSent = now;
    }
    return out;
  }
}
