package dev.tsm.retention;

/** What one sweep removed. */
public record Swept(
    int exportFiles,
    int failedTasks,
    int expiredUploads,
    int orphanFiles,
    int stagingTables,
    int idempotencyKeys) {
  public int total() {
    return exportFiles
        + failedTasks
        + expiredUploads
        + orphanFiles
        + stagingTables
        + idempotencyKeys;
  }
}
