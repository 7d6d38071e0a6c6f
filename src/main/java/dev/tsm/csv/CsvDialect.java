package dev.tsm.csv;

import dev.tsm.Refusal;

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

  /**
   * The delimiter a client names: one ASCII character, {@code \t} for a tab, a comma when none is
   * named; anything else is refused in the parameter's terms.
   */
  public static char parseDelimiter(String value) {
    if (value == null) {
      return ',';
    }
    String v = "\\t".equals(value) ? "\t" : value;
    if (v.length() != 1 || v.charAt(0) > 127) {
      throw Refusal.invalid(
          "parameter 'delimiter' must be one ASCII character (\\t for a tab), not '" + value + "'");
    }
    try {
      new CsvDialect((byte) v.charAt(0), true);
    } catch (IllegalArgumentException e) {
      throw Refusal.invalid("parameter 'delimiter': " + e.getMessage());
    }
    return v.charAt(0);
  }
}
