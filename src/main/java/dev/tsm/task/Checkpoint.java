package dev.tsm.task;

/**
 * How far a task got, committed in the same transaction as the batch it acknowledges: that single
 * rule makes resume exactly-once.
 *
 * @param rowsDone rows written
 * @param rowsSkipped bad rows set aside (import with onError=skip)
 * @param bytesDone bytes of the task's CSV file behind the checkpoint: read by an import (the next
 *     record starts there, where a resume seeks to), written by an export (its file's length, to
 *     which a resume cuts it back)
 * @param line import: line number of the next record (0 for an export)
 * @param lastKey export: key of the last row written, where the next page starts (null for an
 *     import)
 */
public record Checkpoint(
    long rowsDone, long rowsSkipped, long bytesDone, long line, String lastKey) {}
