package dev.tsm.task;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.util.EnumMap;
import java.util.Map;

/** The job of each task kind. */
@ApplicationScoped
public class Jobs {
  private final Map<TaskKind, Job> byKind = new EnumMap<>(TaskKind.class);

  Jobs(Instance<Job> jobs) {
    jobs.forEach(job -> byKind.put(job.kind(), job));
  }

  public Job of(TaskKind kind) {
    Job job = byKind.get(kind);
    if (job == null) {
      throw new IllegalStateException("no job for tasks of kind " + kind);
    }
    return job;
  }
}
