package dev.tsm.task;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.sql.Connection;
import java.sql.SQLException;

/** One kind of task. The runner drives it; the job knows its source, its sink and its undo. */
public interface Job {
  TaskKind kind();

  /**
   * The task's batches from its checkpoint on, each committed with its checkpoint in file (or key)
   * order: built with {@link InOrder#commit}, which keeps the job's own number of batches in flight
   * (imports copy {@code tsm.import.parallelism} batches side by side, exports {@code
   * tsm.export.parallelism} pages). Cancelling the subscription between two items leaves the task
   * exactly at its last checkpoint.
   */
  Multi<Committed> run(Task task, String owner);

  /**
   * Once the last run of {@code task} on this instance let go of what it held (its files closed,
   * its locks released): the run's end is written after it, so a paused task holds nothing.
   */
  default Uni<Void> settled(Task task) {
    return Uni.createFrom().voidItem();
  }

  /**
   * First in the transaction that completes or terminates the task, before the task row is locked:
   * take the job's own resources, waiting for work still in flight.
   */
  default void lock(Connection c, Task task) throws SQLException {}

  /** In the transaction that marks the task COMPLETED: make the result visible. */
  void publish(Connection c, Task task) throws SQLException;

  /** In the transaction that marks the task TERMINATED: undo the task's database work. */
  void discard(Connection c, Task task) throws SQLException;

  /** After the task reached {@code state} (committed): delete the files it no longer needs. */
  void cleanFiles(Task task, TaskState state);
}
