package dev.tsm.csv;

/** One decoded field; {@code value} is null for an unquoted empty field (SQL NULL). */
public record CsvField(String value, boolean quoted) {
  public boolean isNull() {
    return value == null;
  }
}
