package dev.tsm.task;

/** What a task moves: a CSV file into a table, or a table into a CSV file. */
public enum TaskKind {
  IMPORT,
  EXPORT
}
