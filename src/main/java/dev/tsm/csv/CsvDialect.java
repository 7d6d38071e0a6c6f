package dev.tsm.csv;

/**
 * The one CSV dialect the service speaks: PostgreSQL's {@code FORMAT csv} (RFC 4180 quoting with
 * {@code "} as quote and escape, CRLF or LF line ends). An unquoted empty field is NULL, a quoted
 * empty field is the empty string.
 */
public record CsvDialect(byte delimiter, boolean header) {
  public static final byte QUOTE = '"';

  public CsvDialect {
    if (delimiter == QUOTE || delimiter == '\n' || delimiter == '\r' || delimiter == 0) {
      throw new IllegalArgumentException("delimiter may not be a quote, a line break or NUL");
    }
    if (delimiter < 0) {
      throw new IllegalArgumentException("delimiter must be a single ASCII character");
    }
  }

  public char delimiterChar() {
    return (char) delimiter;
  }
}
