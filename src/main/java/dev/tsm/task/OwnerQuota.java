package dev.tsm.task;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Fairness between owners: one owner may have {@code tsm.security.max-active-tasks-per-owner} tasks
 * PENDING or RUNNING; one more is refused (429) rather than queued behind everyone else's. Checked
 * in the transaction that stores the task, under a lock on the owner (replicas count in turn).
 */
@ApplicationScoped
public class OwnerQuota {
  private final TaskStore store;
  private final int max;
  private final int retryAfterSeconds;

  OwnerQuota(TaskStore store, Config config) {
    this.store = store;
    this.max = config.security().maxActiveTasksPerOwner();
    this.retryAfterSeconds = (int) Math.max(1, config.runner().pollInterval().toSeconds() * 5);
  }

  /** Refuses a new task of {@code caller} when it has as many going as it may. */
  public void admit(Connection c, Caller caller) throws SQLException {
    int active = store.activeOf(c, caller.subject());
    if (active >= max) {
      throw Refusal.tooMany(
          caller.subject()
              + " has "
              + active
              + " tasks pending or running, as many as one owner may"
              + " (tsm.security.max-active-tasks-per-owner); retry once one has ended or pause one",
          retryAfterSeconds);
    }
  }
}
