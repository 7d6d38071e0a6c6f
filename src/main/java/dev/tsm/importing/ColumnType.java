package dev.tsm.importing;

import java.math.BigInteger;
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

  // No leading zeros: 01001 is a code (text), not the number 1001.
  private static final Pattern WHOLE = Pattern.compile("-?(0|[1-9][0-9]*)");
  private static final Pattern DECIMAL =
      Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]{1,3})?");
  private static final Pattern DAY = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  private static final Pattern MOMENT =
      Pattern.compile(
          "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?");
  private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
  private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

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
    if (WHOLE.matcher(value).matches()) {
      BigInteger n = new BigInteger(value);
      if (n.compareTo(INT_MIN) >= 0 && n.compareTo(INT_MAX) <= 0) {
        return INTEGER;
      }
      return n.compareTo(LONG_MIN) >= 0 && n.compareTo(LONG_MAX) <= 0 ? BIGINT : NUMERIC;
    }
    if (DECIMAL.matcher(value).matches()) {
      return NUMERIC;
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
