package dev.tsm.importing;

import java.util.List;

/**
 * Consecutive records of the staged file, raw bytes ready for COPY, plus the bad records the
 * scanner set aside among them.
 *
 * @param data the good records' bytes
 * @param starts start of record i in {@code data}; {@code starts[rows]} is the end
 * @param lines line number of record i
 * @param endOffset byte offset in the file just past the batch: the next checkpoint
 * @param endLine line number just past the batch
 */
record Batch(
    byte[] data,
    int[] starts,
    long[] lines,
    List<Rejects.Reject> rejects,
    long endOffset,
    long endLine) {

  int rows() {
    return starts.length - 1;
  }
}
