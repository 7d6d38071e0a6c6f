package dev.tsm.importing;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * The column types an import infers, narrowest first. A column gets the narrowest type every
 * sampled value fits; a later value that does not fit is a bad row.
 */
public enum ColumnType {
  BOOLEAN("boolean"),
  INTEGER("integer"),
  BIGINT("bigint"),
  NUMERIC("numeric"),
  DATE("date"),
  TIMESTAMP("timestamp"),
  TEXT("text");

  // No leading zeros: 01001 is a code (text), not the number 1001. Every pattern here is matched
  // in one pass: a field may be a megabyte of digits.
  private static final Pattern DECIMAL =
      Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]{1,3})?");
  private static final Pattern DAY = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  private static final Pattern MOMENT =
      Pattern.compile(
          "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?");
  private static final String INT_MAX = String.valueOf(Integer.MAX_VALUE);
  private static final String LONG_MAX = String.valueOf(Long.MAX_VALUE);
  // PostgreSQL's numeric holds up to 131072 digits before the point and 16383 after it; a longer
  // value would make every row of its column bad, so it stays text.
  private static final int NUMERIC_MAX_INTEGER_DIGITS = 131072;
  private static final int NUMERIC_MAX_FRACTION_DIGITS = 16383;

  private final String sql;

  ColumnType(String sql) {
    this.sql = sql;
  }

  public String sql() {
    return sql;
  }

  /** The narrowest type of one non-null value. */
  public static ColumnType of(String value) {
    // true/false, and t/f as PostgreSQL writes booleans: exported files import back as booleans.
    if ("true".equalsIgnoreCase(value)
        || "false".equalsIgnoreCase(value)
        || "t".equalsIgnoreCase(value)
        || "f".equalsIgnoreCase(value)) {
      return BOOLEAN;
    }
    java.util.regex.Matcher number = DECIMAL.matcher(value);
    if (number.matches()) {
      return number(number);
    }
    // PostgreSQL has no year 0 (1 BC is followed by 1 AD): it refuses 0000-01-01, java.time not.
    boolean yearZero = value.startsWith("0000");
    if (!yearZero && DAY.matcher(value).matches() && parses(() -> LocalDate.parse(value))) {
      return DATE;
    }
    if (!yearZero
        && MOMENT.matcher(value).matches()
        && parses(() -> LocalDateTime.parse(value.replace(' ', 'T')))) {
      return TIMESTAMP;
    }
    return TEXT;
  }

  /**
   * A value of the decimal pattern: a whole number takes the narrowest integer type its digits fit
   * (compared as text, never parsed: linear in the length), anything else numeric if PostgreSQL's
   * numeric can hold it.
   */
  private static ColumnType number(java.util.regex.Matcher m) {
    String digits = m.group(1);
    String fraction = m.group(2);
    String exponent = m.group(3);
    if (fraction == null && exponent == null) {
      boolean negative = m.start(1) == 1;
      if (fitsBelow(digits, INT_MAX, negative)) {
        return INTEGER;
      }
      if (fitsBelow(digits, LONG_MAX, negative)) {
        return BIGINT;
      }
    }
    int shift = exponent == null ? 0 : Integer.parseInt(exponent.substring(1));
    long integerDigits = (long) digits.length() + Math.max(0, shift);
    long fractionDigits = (fraction == null ? 0 : fraction.length() - 1L) + Math.max(0, -shift);
    return integerDigits <= NUMERIC_MAX_INTEGER_DIGITS
            && fractionDigits <= NUMERIC_MAX_FRACTION_DIGITS
        ? NUMERIC
        : TEXT;
  }

  /**
   * Whether a run of digits without leading zeros is at most {@code max} (a positive maximum as
   * text), or, negative, at most one more: two's complement ranges reach one further down.
   */
  private static boolean fitsBelow(String digits, String max, boolean negative) {
    if (digits.length() != max.length()) {
      return digits.length() < max.length();
    }
    int order = digits.compareTo(max);
    if (order <= 0) {
      return true;
    }
    // Only -max-1 is left, whose digits differ from max's in the last place (7 -> 8).
    String below = max.substring(0, max.length() - 1) + (char) (max.charAt(max.length() - 1) + 1);
    return negative && digits.equals(below);
  }

  /** The narrowest type both values fit. */
  public ColumnType join(ColumnType other) {
    if (this == other) {
      return this;
    }
    if (isNumber() && other.isNumber()) {
      return ordinal() > other.ordinal() ? this : other;
    }
    if (isMoment() && other.isMoment()) {
      return TIMESTAMP;
    }
    return TEXT;
  }

  private boolean isNumber() {
    return this == INTEGER || this == BIGINT || this == NUMERIC;
  }

  private boolean isMoment() {
    return this == DATE || this == TIMESTAMP;
  }

  private static boolean parses(Runnable parse) {
    try {
      parse.run();
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
