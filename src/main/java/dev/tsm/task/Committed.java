package dev.tsm.task;

/**
 * A batch acknowledged by the database: its checkpoint, and the stop the owner was asked for (read
 * back in the same statement, so a lost notification costs at most one batch).
 */
public record Committed(Checkpoint checkpoint, TaskState requested) {}
