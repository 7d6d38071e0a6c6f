package dev.tsm.task;

/**
 * How far a task got, committed in the same transaction as the batch it acknowledges: that single
 * rule makes resume exactly-once.
 *
 * @param rowsDone rows written
 * @param rowsSkipped bad rows set aside (import with onError=skip)
 * @param bytesDone import: byte offset of the next record in the staged file; export: bytes written
 * @param line import: line number of the next record
 * @param lastKey export: key of the last row written
 */
public record Checkpoint(
    long rowsDone, long rowsSkipped, long bytesDone, long line, String lastKey) {

  public static Checkpoint start() {
    return new Checkpoint(0, 0, 0, 1, null);
  }
}
