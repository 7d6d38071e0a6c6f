package dev.tsm.support;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test access to the test database: plain JDBC, and psql for the reference loads. */
public final class Db {
  private Db() {}

  public static void execute(String sql) {
    try (Connection c = TestDatabase.pg().connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  public static long count(String sql) {
    return Long.parseLong(single(sql));
  }

  /** The first column of the first row, as text (null for SQL NULL). */
  public static String single(String sql) {
    List<List<String>> rows = rows(sql);
    return rows.isEmpty() ? null : rows.get(0).get(0);
  }

  public static List<List<String>> rows(String sql) {
    try (Connection c = TestDatabase.pg().connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      List<List<String>> rows = new ArrayList<>();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          row.add(rs.getString(i));
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  public static boolean tableExists(String qualified) {
    return single("SELECT to_regclass('" + qualified.replace("'", "''") + "')") != null;
  }

  /** The id of the task importing into {@code table}, once its row exists (within 30 s). */
  public static String awaitTaskOf(String table) {
    String sql = "SELECT id FROM tsm.task WHERE table_name = '" + table.replace("'", "''") + "'";
    await("a task for " + table)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> single(sql) != null);
    return single(sql);
  }

  /** Tables the service staged in its own schema. */
  public static List<String> stagingTables() {
    return rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'tsm' AND tablename LIKE 'import\\_%'")
        .stream()
        .map(r -> r.get(0))
        .toList();
  }

  /** Runs psql against the test database (the uninterrupted reference). */
  public static String psql(String command) {
    TestDatabase.Pg pg = TestDatabase.pg();
    ProcessBuilder pb =
        new ProcessBuilder(
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                pg.host(),
                "-p",
                String.valueOf(pg.port()),
                "-U",
                pg.user(),
                "-d",
                pg.database(),
                "-c",
                command)
            .redirectErrorStream(true);
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("psql " + command + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run psql", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Loads {@code file} with {@code psql \copy} into a new table shaped like {@code like} (same
   * column types): the uninterrupted reference for an import into {@code like}.
   */
  public static void copyReference(String reference, String like, Path file, String options) {
    execute("DROP TABLE IF EXISTS " + reference);
    execute("CREATE TABLE " + reference + " (LIKE " + like + ")");
    psql(
        "\\copy "
            + reference
            + " FROM '"
            + file.toAbsolutePath()
            + "' WITH (FORMAT csv"
            + options
            + ")");
  }

  /** Asserts two tables hold the same rows, each as often (multiset equality), and as many. */
  public static void assertSameRows(String expected, String actual) {
    assertEquals(
        count("SELECT count(*) FROM " + expected),
        count("SELECT count(*) FROM " + actual),
        "row count of " + actual);
    assertEquals(
        0,
        count(
            "SELECT count(*) FROM (SELECT * FROM "
                + expected
                + " EXCEPT ALL SELECT * FROM "
                + actual
                + ") d"),
        "rows of " + expected + " missing from " + actual);
    assertEquals(
        0,
        count(
            "SELECT count(*) FROM (SELECT * FROM "
                + actual
                + " EXCEPT ALL SELECT * FROM "
                + expected
                + ") d"),
        "rows of " + actual + " not in " + expected);
  }

  /** Column name and type, in order. */
  public static List<List<String>> columns(String table) {
    return rows(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = '"
            + table
            + "'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
  }
}
