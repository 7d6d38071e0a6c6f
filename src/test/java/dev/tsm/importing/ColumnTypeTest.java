package dev.tsm.importing;

import static dev.tsm.importing.ColumnType.BIGINT;
import static dev.tsm.importing.ColumnType.BOOLEAN;
import static dev.tsm.importing.ColumnType.DATE;
import static dev.tsm.importing.ColumnType.INTEGER;
import static dev.tsm.importing.ColumnType.NUMERIC;
import static dev.tsm.importing.ColumnType.TEXT;
import static dev.tsm.importing.ColumnType.TIMESTAMP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Type inference of single values and of columns, and the header-to-column-name rules. */
class ColumnTypeTest {

  private static void assertType(ColumnType expected, String... values) {
    for (String v : values) {
      assertEquals(expected, ColumnType.of(v), "type of '" + v + "'");
    }
  }

  /** The type of a column holding all of {@code values}, as the sample folds them. */
  private static ColumnType column(String... values) {
    ColumnType t = null;
    for (String v : values) {
      ColumnType one = ColumnType.of(v);
      t = t == null ? one : t.join(one);
    }
    return t;
  }

  @Test
  void sqlNames() {
    assertEquals("boolean", BOOLEAN.sql());
    assertEquals("integer", INTEGER.sql());
    assertEquals("bigint", BIGINT.sql());
    assertEquals("numeric", NUMERIC.sql());
    assertEquals("date", DATE.sql());
    assertEquals("timestamp", TIMESTAMP.sql());
    assertEquals("text", TEXT.sql());
  }

  @Test
  void leadingZerosStayText() {
    assertType(TEXT, "01001", "00", "007", "-01", "0123456789012", "01.5", "00.5", "-00");
    assertType(INTEGER, "0", "-0", "10", "1001");
    assertType(NUMERIC, "0.5", "-0.25", "0.0");
    assertEquals(TEXT, column("1001", "01001", "2002"), "one zip code with a zero makes text");
  }

  @Test
  void wholeNumbersTakeTheNarrowestRange() {
    assertType(INTEGER, "1", "-1", "2147483647", "-2147483648", "123456");
    assertType(BIGINT, "2147483648", "-2147483649", "9223372036854775807", "-9223372036854775808");
    assertType(NUMERIC, "9223372036854775808", "-9223372036854775809", "1" + "0".repeat(40));
  }

  @Test
  void decimalsAndExponentsAreNumeric() {
    assertType(NUMERIC, "1.5", "-12.50", "3.14159", "1e5", "1E+3", "-2.5e-10", "6.02E23");
    assertType(TEXT, ".5", "1.", "+1", "+1.5", "1,5", "1 000", "1e", "1e1234", "NaN", "Infinity");
    assertType(TEXT, "0x1F", "1_000", " 1", "1 ", "١٢٣");
  }

  @Test
  void hugeNumbersAreTypedByTheirDigitsAsPostgresqlTakesThem() {
    // numeric holds 131072 digits before the point and 16383 after: beyond, every row of the
    // column would be refused, so such a value is text.
    assertType(NUMERIC, "9".repeat(131072), "-" + "9".repeat(131072), "1" + "0".repeat(200));
    assertType(TEXT, "9".repeat(131073), "-" + "9".repeat(131073));
    assertType(NUMERIC, "0." + "9".repeat(16383), "1e999", "1e-999", "1.5e-998");
    assertType(TEXT, "0." + "9".repeat(16384), "0." + "9".repeat(15385) + "e-999");
    assertType(TEXT, "9".repeat(130074) + "e999");
    // Bounds of the integer types, compared as text.
    assertType(INTEGER, "2147483646", "-2147483647");
    assertType(BIGINT, "2147483649", "-2147483650", "9223372036854775806");
    assertType(NUMERIC, "9223372036854775809", "-9223372036854775810", "99999999999999999999");
  }

  @Test
  void aMegabyteOfDigitsIsTypedInOnePass() {
    // Parsing such a value as a BigInteger takes seconds (quadratic); a sample of 1,000 of them
    // would hold a request for many minutes. Reading the digits once is instantaneous.
    String digits = "7".repeat(1 << 20);
    long start = System.nanoTime();
    for (int i = 0; i < 100; i++) {
      assertEquals(TEXT, ColumnType.of(digits));
      assertEquals(TEXT, ColumnType.of(digits + "x"));
      assertEquals(TEXT, ColumnType.of("1." + digits));
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 20_000, "300 values of 1 MiB typed in " + millis + " ms");
  }

  @Test
  void booleansInAnyCase() {
    assertType(BOOLEAN, "true", "false", "TRUE", "False", "tRuE");
    assertType(TEXT, "yes", "no", "on", "off", "truex", " true", "tf");
    // PostgreSQL's own output for booleans reads back as boolean.
    assertType(BOOLEAN, "t", "f", "T", "F");
    assertEquals(INTEGER, column("1", "0"), "0 and 1 are numbers, not booleans");
  }

  @Test
  void datesMustBeRealDays() {
    assertType(DATE, "2024-01-31", "2024-02-29", "1999-12-31", "0001-01-01", "9999-12-31");
    assertType(TEXT, "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-5");
    assertType(INTEGER, "20240101");
    assertType(TEXT, "24-01-01", "2024/01/01", "01.02.2024", "2024-01-01x", "2024-01-01 ");
  }

  @Test
  void yearZeroIsNoDateForPostgresql() {
    // PostgreSQL has no year 0 ("date/time field value out of range"): as a date or timestamp
    // every such row would be refused, so the column must stay text.
    assertType(TEXT, "0000-01-01", "0000-12-31 10:00:00");
    assertEquals(TEXT, column("2024-01-01", "0000-01-01"));
  }

  @Test
  void timestampsWithSpaceOrT() {
    assertType(
        TIMESTAMP,
        "2024-03-01 10:15",
        "2024-03-01T10:15",
        "2024-03-01 10:15:30",
        "2024-03-01T23:59:59.5",
        "2024-03-01 00:00:00.123456",
        "2024-02-29 12:00:00");
    assertType(
        TEXT,
        "2024-03-01 24:00:00",
        "2024-03-01 10:60",
        "2024-02-30 10:00",
        "2024-03-01 10:15:30.1234567",
        "2024-03-01 10:15:30+02",
        "2024-03-01T10:15:30Z",
        "2024-03-01  10:15",
        "10:15:30");
  }

  @Test
  void joinWidensNumbersAndMomentsElseText() {
    assertEquals(INTEGER, INTEGER.join(INTEGER));
    assertEquals(BIGINT, INTEGER.join(BIGINT));
    assertEquals(BIGINT, BIGINT.join(INTEGER));
    assertEquals(NUMERIC, INTEGER.join(NUMERIC));
    assertEquals(NUMERIC, NUMERIC.join(BIGINT));
    assertEquals(TIMESTAMP, DATE.join(TIMESTAMP));
    assertEquals(TIMESTAMP, TIMESTAMP.join(DATE));
    assertEquals(DATE, DATE.join(DATE));
    assertEquals(BOOLEAN, BOOLEAN.join(BOOLEAN));
    for (ColumnType t : ColumnType.values()) {
      assertEquals(TEXT, t.join(TEXT), t + " with text");
      assertEquals(TEXT, TEXT.join(t), "text with " + t);
      assertEquals(t, t.join(t));
    }
    assertEquals(TEXT, BOOLEAN.join(INTEGER));
    assertEquals(TEXT, INTEGER.join(BOOLEAN));
    assertEquals(TEXT, INTEGER.join(DATE));
    assertEquals(TEXT, DATE.join(NUMERIC));
    assertEquals(TEXT, TIMESTAMP.join(BOOLEAN));
    // join is symmetric
    for (ColumnType a : ColumnType.values()) {
      for (ColumnType b : ColumnType.values()) {
        assertEquals(a.join(b), b.join(a), a + " and " + b);
      }
    }
    assertEquals(BIGINT, column("1", "-5", "5000000000"));
    assertEquals(NUMERIC, column("1", "5000000000", "0.5"));
    assertEquals(TIMESTAMP, column("2024-01-01", "2024-01-02 03:04:05"));
    assertEquals(TEXT, column("2024-01-01", "20240102"));
  }

  @Test
  void headerNamesAreKeptTrimmedAndCleaned() {
    assertEquals(
        List.of("id", "Name", "amount (EUR)", "Zoë", "東京", "a\"b", "select"),
        ColumnNames.of(List.of("id", "Name", " amount (EUR) ", "Zoë", "東京", "a\"b", "select")));
    assertEquals(
        List.of("twolines", "tab", "nul"),
        ColumnNames.of(List.of("two\nlines", "\ttab\t", "n\u0000ul")));
  }

  @Test
  void emptyHeaderNamesAreNumberedByPosition() {
    assertEquals(
        List.of("column_1", "b", "column_3", "column_4", "column_5"),
        ColumnNames.of(Arrays.asList("", "b", null, "   ", "\r\n")));
    assertEquals(List.of("column_1", "column_2"), ColumnNames.numbered(2));
  }

  @Test
  void duplicateHeaderNamesGetSuffixes() {
    assertEquals(List.of("a", "a_2", "a_3", "b"), ColumnNames.of(List.of("a", "a", "a", "b")));
    // A suffixed name that is itself taken moves on to the next free one.
    assertEquals(List.of("a", "a_2", "a_3"), ColumnNames.of(List.of("a", "a_2", "a")));
    assertEquals(List.of("a_2", "a", "a_3"), ColumnNames.of(List.of("a_2", "a", "a")));
    // Names differing in case are different columns (every name is quoted).
    assertEquals(List.of("A", "a"), ColumnNames.of(List.of("A", "a")));
    // Trimmed names that collide.
    assertEquals(List.of("x", "x_2"), ColumnNames.of(List.of("x", " x ")));
    // An empty name's stand-in may collide with a real one.
    assertEquals(List.of("column_2", "column_2_2"), ColumnNames.of(Arrays.asList("column_2", "")));
  }

  @Test
  void overLongHeaderNamesAreCutTo63BytesWithoutSplittingCharacters() {
    String ascii = "n".repeat(100);
    List<String> names = ColumnNames.of(List.of(ascii, ascii, ascii));
    assertEquals("n".repeat(63), names.get(0));
    assertEquals("n".repeat(61) + "_2", names.get(1));
    assertEquals("n".repeat(61) + "_3", names.get(2));

    String twoByte = "é".repeat(40); // 80 bytes
    String threeByte = "東".repeat(30); // 90 bytes
    String fourByte = "😀".repeat(20); // 80 bytes
    List<String> wide = ColumnNames.of(List.of(twoByte, twoByte, threeByte, fourByte, fourByte));
    assertEquals("é".repeat(31), wide.get(0));
    assertEquals("é".repeat(30) + "_2", wide.get(1));
    assertEquals("東".repeat(21), wide.get(2));
    assertEquals("😀".repeat(15), wide.get(3));
    assertEquals("😀".repeat(15) + "_2", wide.get(4));

    for (String n : wide) {
      assertTrue(n.getBytes(StandardCharsets.UTF_8).length <= 63, n);
    }
    assertEquals(wide.size(), new HashSet<>(wide).size(), "names are unique");

    // Exactly 63 bytes is kept whole.
    assertEquals(List.of("m".repeat(63)), ColumnNames.of(List.of("m".repeat(63))));
    // Names the same in their first 63 bytes collide once cut.
    List<String> cut = ColumnNames.of(List.of("p".repeat(63) + "A", "p".repeat(63) + "B"));
    assertEquals(List.of("p".repeat(63), "p".repeat(61) + "_2"), cut);
  }

  @Test
  void manyDuplicatesStayUniqueAndWithinTheLimit() {
    String[] header = new String[120];
    Arrays.fill(header, "q".repeat(70));
    List<String> names = ColumnNames.of(Arrays.asList(header));
    assertEquals(120, new HashSet<>(names).size());
    for (String n : names) {
      assertTrue(n.getBytes(StandardCharsets.UTF_8).length <= 63, n);
    }
    assertEquals("q".repeat(59) + "_120", names.get(119));
  }
}
