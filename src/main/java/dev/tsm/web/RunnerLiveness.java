package dev.tsm.web;

import dev.tsm.task.TaskRunner;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Liveness: the task runner still ticks (renews its leases, polls its queue), with the instance and
 * how many tasks it runs. Readiness checks the database (built in): an unreachable database is no
 * reason to restart the process.
 */
@Liveness
@ApplicationScoped
public class RunnerLiveness implements HealthCheck {
  private final TaskRunner runner;

  RunnerLiveness(TaskRunner runner) {
    this.runner = runner;
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("task-runner")
        .status(runner.ticking())
        .withData("instance", runner.instanceId())
        .withData("runningTasks", runner.runningCount())
        .build();
  }
}
