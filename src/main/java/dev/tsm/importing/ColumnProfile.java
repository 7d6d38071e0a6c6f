package dev.tsm.importing;

import java.util.Locale;

/**
 * One column as its sample showed it: the type inferred (the narrowest every value fits, as {@link
 * ColumnType#join} folds them) and why, counted: how many values of each kind, and the first of
 * each with its line, so that a reason can say "text: leading zeros in 31 of 1,000 sampled values
 * (e.g. '01001' on line 4)".
 */
final class ColumnProfile {
  /** The kinds a value can be of, for the reason: numbers, moments, booleans, or none of them. */
  private enum Kind {
    NUMBER("numbers"),
    MOMENT("dates or timestamps"),
    BOOLEAN("booleans"),
    OTHER("");

    private final String plural;

    Kind(String plural) {
      this.plural = plural;
    }
  }

  private static final java.util.regex.Pattern LEADING_ZERO =
      java.util.regex.Pattern.compile("-?0[0-9]+(\\.[0-9]+)?");

  private ColumnType type;
  private long values;
  private long nulls;
  private long leadingZeros;
  private String leadingZeroExample;
  private long leadingZeroLine;
  private long wide; // bigint beyond int4, numeric beyond bigint, timestamp with a time
  private String wideExample;
  private long wideLine;
  private final long[] kinds = new long[Kind.values().length];
  private final String[] examples = new String[Kind.values().length];
  private final long[] exampleLines = new long[Kind.values().length];

  /** Adds one value of line {@code line}; null for an unquoted empty field (SQL NULL). */
  void add(String value, long line) {
    if (value == null) {
      nulls++;
      return;
    }
    values++;
    // A quoted empty string is text: no number, date or boolean reads it.
    ColumnType t = value.isEmpty() ? ColumnType.TEXT : ColumnType.of(value);
    type = type == null ? t : type.join(t);
    Kind kind = kind(t);
    int k = kind.ordinal();
    if (kinds[k]++ == 0) {
      examples[k] = value;
      exampleLines[k] = line;
    }
    if (t == ColumnType.TEXT && LEADING_ZERO.matcher(value).matches() && leadingZeros++ == 0) {
      leadingZeroExample = value;
      leadingZeroLine = line;
    }
    if ((t == ColumnType.BIGINT || t == ColumnType.NUMERIC || t == ColumnType.TIMESTAMP)
        && wide++ == 0) {
      wideExample = value;
      wideLine = line;
    }
  }

  /** The inferred type: text when the sample holds no value. */
  ColumnType type() {
    return type == null ? ColumnType.TEXT : type;
  }

  long values() {
    return values;
  }

  long nulls() {
    return nulls;
  }

  private static Kind kind(ColumnType t) {
    return switch (t) {
      case INTEGER, BIGINT, NUMERIC -> Kind.NUMBER;
      case DATE, TIMESTAMP -> Kind.MOMENT;
      case BOOLEAN -> Kind.BOOLEAN;
      case TEXT -> Kind.OTHER;
    };
  }

  /** Why the column got its type, e.g. "integer: all 1,000 sampled values are whole numbers". */
  String reason() {
    ColumnType t = type();
    String all =
        values == 1 ? "the one sampled value is" : "all " + count(values) + " sampled values are";
    return switch (t) {
      case BOOLEAN -> "boolean: " + all + " true/false or t/f";
      case INTEGER -> "integer: " + all + " whole numbers in int4 range";
      case BIGINT ->
          "bigint: " + all + " whole numbers, " + count(wide) + " beyond int4 range" + wideEg();
      case NUMERIC ->
          "numeric: "
              + all
              + " numbers, "
              + count(wide)
              + " with a fraction, an exponent or beyond bigint range"
              + wideEg();
      case DATE -> "date: " + all + " dates (YYYY-MM-DD)";
      case TIMESTAMP ->
          "timestamp: " + all + " dates or timestamps, " + count(wide) + " with a time" + wideEg();
      case TEXT -> "text: " + textReason();
    };
  }

  private String textReason() {
    if (values == 0) {
      return "the sample holds no value (" + count(nulls) + " empty)";
    }
    String of = " of " + count(values) + " sampled values";
    if (leadingZeros > 0) {
      return "leading zeros in "
          + count(leadingZeros)
          + of
          + eg(leadingZeroExample, leadingZeroLine)
          + ": codes, not numbers";
    }
    Kind most = Kind.OTHER;
    for (Kind k : Kind.values()) {
      if (k != Kind.OTHER && kinds[k.ordinal()] > kinds[most.ordinal()]) {
        most = k;
      }
    }
    if (most == Kind.OTHER) {
      return count(values)
          + of
          + " are not numbers, dates or booleans"
          + eg(examples[Kind.OTHER.ordinal()], exampleLines[Kind.OTHER.ordinal()]);
    }
    int first = -1;
    for (Kind k : Kind.values()) {
      int i = k.ordinal();
      if (k != most && kinds[i] > 0 && (first < 0 || exampleLines[i] < exampleLines[first])) {
        first = i;
      }
    }
    return count(values - kinds[most.ordinal()])
        + of
        + " are not "
        + most.plural
        + eg(examples[first], exampleLines[first]);
  }

  private String wideEg() {
    return eg(wideExample, wideLine);
  }

  private static String eg(String value, long line) {
    String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
    return " (e.g. '" + shown + "' on line " + line + ")";
  }

  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
