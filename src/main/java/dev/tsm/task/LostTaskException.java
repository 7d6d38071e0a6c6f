package dev.tsm.task;

/**
 * This instance no longer owns the task (its lease was taken over): it must stop, commit nothing.
 */
public class LostTaskException extends RuntimeException {
  public LostTaskException(java.util.UUID id) {
    super("task " + id + " is no longer owned by this instance");
  }
}
