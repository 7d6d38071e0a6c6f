package dev.tsm.csv;

/**
 * What the scanner learnt of one record; reused from record to record to keep the hot loop free of
 * allocation.
 */
public final class ScannedRecord {
  /** Line of the file (1-based) on which the record starts. */
  long line;

  /** Byte offset just past the record (its line end included): where the next record starts. */
  long endOffset;

  /** Number of fields. */
  int fields;

  /** Position in the output buffer where the record's bytes start, and their number. */
  int start;

  int length;

  /** The record holds nothing but a line end. */
  boolean blank;

  /** First problem found, or null. */
  String error;

  public long line() {
    return line;
  }

  public long endOffset() {
    return endOffset;
  }

  public int fields() {
    return fields;
  }

  public int start() {
    return start;
  }

  public int length() {
    return length;
  }

  public boolean blank() {
    return blank;
  }

  public String error() {
    return error;
  }
}
