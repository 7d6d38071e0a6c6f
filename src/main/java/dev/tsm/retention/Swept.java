package dev.tsm.retention;

/** What one sweep removed. */
public record Swept(int exportFiles, int failedTasks, int orphanFiles, int stagingTables) {
  public int total() {
    return exportFiles + failedTasks + orphanFiles + stagingTables;
  }
}
