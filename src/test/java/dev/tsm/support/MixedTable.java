package dev.tsm.support;

import java.util.List;

/** The export tests' table of awkward values, public.exp_all, made once for every test class. */
public final class MixedTable {
  private MixedTable() {}

  public static final int ROWS = 20_000;

  /** The reference's query: every column, in key order. */
  public static final String SELECT = "SELECT * FROM public.exp_all ORDER BY id";

  /** Text values with everything CSV must quote or escape, multi-byte text, NULL and ''. */
  private static final List<String> NAMES =
      List.of(
          "'Ada'",
          "'Zoë'",
          "'東京 😀 👩\u200D👩\u200D👧 🇫🇷'",
          "'Smith, Jr.'",
          "'say \"hi\"'",
          "E'two\\nlines'",
          "''",
          "NULL",
          "'plain text'",
          "E'CRLF\\r\\ninside'",
          "' spaced '",
          "'\\N'",
          "'semi;colon'",
          "E'tab\\there'",
          "'\"'",
          "','",
          "E'back\\\\slash'",
          "'\\.'",
          "'O''Brien'",
          "E'\\r'");

  /**
   * The columns big, amount, active, day, at and name of row {@code g} (SQL): NULLs, large and
   * negative numbers, fractions, odd timestamps and awkward text. exp_all and ExportTest's exp_rt
   * share them.
   */
  public static final String VALUES =
      " CASE WHEN g % 17 = 0 THEN NULL ELSE 5000000000 + g::bigint * 7919 END,"
          + " CASE WHEN g % 13 = 0 THEN NULL"
          + "   ELSE round(((g * 7907) % 100000 - 50000) / 100.0, 2) END,"
          + " CASE WHEN g % 11 = 0 THEN NULL ELSE g % 2 = 0 END,"
          + " CASE WHEN g % 19 = 0 THEN NULL ELSE date '2024-01-01' + g % 366 END,"
          + " CASE WHEN g % 23 = 0 THEN NULL"
          + "   ELSE timestamp '2024-03-01' + g * interval '7 minutes 13.25 seconds' END,"
          + " (ARRAY["
          + String.join(", ", NAMES)
          + "])[1 + g % "
          + NAMES.size()
          + "]";

  /**
   * 20,000 rows of every type an import produces, with NULLs, empty strings, quotes, delimiters,
   * newlines and multi-byte text; ids from -999 (so text order is not number order), inserted in
   * shuffled order (so physical order is not key order).
   */
  public static synchronized void create() {
    if (Db.tableExists("public.exp_all")) {
      return;
    }
    Db.execute(
        "CREATE TABLE public.exp_all (id integer PRIMARY KEY, big bigint, amount numeric,"
            + " active boolean, day date, at timestamp, name text, note text)");
    Db.execute(
        "INSERT INTO public.exp_all SELECT g - 1000,"
            + VALUES
            + ","
            + " CASE g % 7 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE repeat(md5(g::text), 1 + g % 3) END"
            + " FROM generate_series(1, "
            + ROWS
            + ") g ORDER BY md5(g::text)");
  }
}
