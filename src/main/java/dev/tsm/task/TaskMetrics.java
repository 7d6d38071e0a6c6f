package dev.tsm.task;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** What an operator watches: see docs/operations.md for each metric and when to alert. */
@ApplicationScoped
public class TaskMetrics {
  private final MeterRegistry registry;
  private final Map<String, AtomicLong> tasks = new ConcurrentHashMap<>();
  private final Counter takeovers;
  private final Timer pauseLatency;

  TaskMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.takeovers =
        Counter.builder("tsm.lease.takeovers")
            .description("Running tasks claimed after their owner's lease ran out")
            .register(registry);
    this.pauseLatency =
        Timer.builder("tsm.pause.latency")
            .description("From a pause request to the task being PAUSED")
            .publishPercentileHistogram()
            .register(registry);
  }

  /** Tasks by state and kind across all replicas, refreshed from the database. */
  void tasks(List<Row> counts) {
    tasks.values().forEach(v -> v.set(0));
    for (Row row : counts) {
      String state = row.getString("state");
      String kind = row.getString("kind");
      tasks
          .computeIfAbsent(
              state + "/" + kind,
              key -> {
                AtomicLong value = new AtomicLong();
                Gauge.builder("tsm.tasks", value, AtomicLong::get)
                    .description("Tasks by state and kind (all replicas)")
                    .tag("state", state)
                    .tag("kind", kind)
                    .register(registry);
                return value;
              })
          .set(row.getLong("n"));
    }
  }

  /** Rows and bytes a batch moved. */
  void moved(TaskKind kind, long rows, long bytes) {
    counter("tsm.rows", "Rows moved", kind).increment(rows);
    counter("tsm.bytes", "Bytes read (import) or written (export)", kind).increment(bytes);
  }

  /** Times one batch: written and committed with its checkpoint. */
  public <T> T batch(TaskKind kind, Supplier<T> write) {
    return Timer.builder("tsm.batch.commit")
        .description("Writing and committing one batch with its checkpoint")
        .tag("kind", kind.name())
        .publishPercentileHistogram()
        .register(registry)
        .record(write);
  }

  void takeover() {
    takeovers.increment();
  }

  void paused(Duration latency) {
    pauseLatency.record(latency);
  }

  /** Subscribers of the Server-Sent Events streams on this instance. */
  public void subscribers(Supplier<Number> count) {
    Gauge.builder("tsm.sse.subscribers", count)
        .description("Open Server-Sent Events streams on this instance")
        .register(registry);
  }

  private Counter counter(String name, String description, TaskKind kind) {
    return Counter.builder(name)
        .description(description)
        .tag("kind", kind.name())
        .register(registry);
  }
}
