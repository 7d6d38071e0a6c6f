package dev.tsm.exporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Keyset pages, walked from the first row to the last straight through the pager: every row in
 * exactly one page whichever way the bounds are found, pages near their size where the planner's
 * statistics size them, and exactly their size where a scan must (statistics out of date, a key
 * with a collation).
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class PagerTest {
  private static final int ROWS = 30_000;
  private static final int PAGE = 1_000;

  /** A page: its rows, and where it ends. */
  private record Walked(long rows, String lastKey) {}

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        // Keys ever further apart (squares), so equal key ranges would not be equal pages.
        "bigint | g::bigint * g",
        "uuid | md5(g::text)::uuid",
        "timestamptz | timestamptz '2024-01-01 00:00:00+00' + g * g * interval '1 second'",
        "numeric | (g * 7.25)::numeric"
      })
  void anAnalyzedTablesPagesEndAtItsHistogramsBounds(String type, String key) throws Exception {
    String table = "pager_" + type;
    create(table, type, key);
    Db.execute("ANALYZE public." + table);
    Set<String> bounds = histogram(table, type);

    List<Walked> pages = walk(table, type);
    for (int i = 1; i < pages.size() - 1; i++) {
      Walked page = pages.get(i);
      assertTrue(
          bounds.contains(page.lastKey()),
          "page " + i + " ends at a histogram bound, not at " + page.lastKey());
      assertTrue(
          page.rows() >= PAGE / 2 && page.rows() <= PAGE * 3 / 2,
          "page " + i + " is near its size: " + page.rows() + " rows");
    }
  }

  @Test
  void aRunsFirstPageIsScannedToItsExactSizeThePagesAfterItEndAtHistogramBounds() throws Exception {
    String table = "pager_run_start";
    create(table, "bigint", "g::bigint * g");
    Db.execute("ANALYZE public." + table);
    Set<String> bounds = histogram(table, "bigint");
    ExportPlan plan = plan(table, "bigint");
    String checkpointKey = new JsonArray().add("10000").encode(); // after the 100th row
    try (Connection c = TestDatabase.pg().connect()) {
      Pager.Page first = Pager.next(c, plan, new Pager.Cursor(checkpointKey, true, true), PAGE);
      assertEquals(PAGE, rows(plan, first), "a run's first page: its keys scanned, exact");
      Pager.Page second = Pager.next(c, plan, first.after(), PAGE);
      assertTrue(bounds.contains(key(second)), "the page after it ends at a bound: " + key(second));
      Pager.Page notFirst = Pager.next(c, plan, new Pager.Cursor(checkpointKey, true), PAGE);
      assertTrue(
          bounds.contains(key(notFirst)),
          "the same page within a run ends at a bound: " + key(notFirst));
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "stale | bigint | g::bigint * g",
        // Text orders by its collation, which the histogram's array need not share.
        "collated | text | lpad(g::text, 6, '0')"
      })
  void withoutStatisticsToTrustPagesAreScannedToTheirExactSize(String why, String type, String key)
      throws Exception {
    String table = "pager_" + why;
    create(table, type, key);
    Db.execute("ANALYZE public." + table);
    if (why.equals("stale")) {
      // More rows changed since the statistics than half a page: their histogram is out of date.
      Db.execute(
          "INSERT INTO public."
              + table
              + " SELECT g::bigint * g, 'new' FROM generate_series("
              + (ROWS + 1)
              + ", "
              + (ROWS + PAGE)
              + ") g");
      Waits.until(
          Duration.ofSeconds(10),
          "PostgreSQL counts the changes",
          () ->
              Db.count(
                      "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = '"
                          + table
                          + "'")
                  >= PAGE);
    }
    long total = Db.count("SELECT count(*) FROM public." + table);
    List<Walked> pages = walk(table, type);
    for (int i = 0; i < pages.size() - 1; i++) {
      assertEquals(PAGE, pages.get(i).rows(), "page " + i + " of " + pages.size());
    }
    assertEquals((total + PAGE - 1) / PAGE, pages.size(), "pages of " + total + " rows");
  }

  private static ExportPlan plan(String table, String type) {
    return new ExportPlan(
        new TableName("public", table),
        List.of(new Sql.Column("id", type), new Sql.Column("note", "text")),
        List.of(new Sql.Column("id", type)),
        ',',
        false,
        0,
        Compression.NONE);
  }

  /** The bounds of the histogram of {@code table}'s key, as text. */
  private static Set<String> histogram(String table, String type) {
    Set<String> bounds =
        new HashSet<>(
            Db.rows(
                    "SELECT unnest(histogram_bounds::text::"
                        + type
                        + "[])::text FROM pg_stats WHERE tablename = '"
                        + table
                        + "' AND attname = 'id'")
                .stream()
                .map(row -> row.get(0))
                .toList());
    assertTrue(bounds.size() > 50, "the histogram of " + table + ": " + bounds.size());
    return bounds;
  }

  private static long rows(ExportPlan plan, Pager.Page page) {
    return Db.count("SELECT count(*) FROM " + plan.from() + " WHERE " + page.condition());
  }

  private static String key(Pager.Page page) {
    return new JsonArray(page.lastKey()).getString(0);
  }

  private static void create(String table, String type, String key) {
    Db.execute("DROP TABLE IF EXISTS public." + table);
    Db.execute("CREATE TABLE public." + table + " (id " + type + " PRIMARY KEY, note text)");
    Db.execute(
        "INSERT INTO public."
            + table
            + " SELECT "
            + key
            + ", 'row ' || g FROM generate_series(1, "
            + ROWS
            + ") g ORDER BY md5(g::text)");
  }

  /**
   * Every page of {@code table} in turn, each counted by its own condition; checks that the pages
   * hold every row once, in key order.
   */
  private static List<Walked> walk(String table, String type) throws Exception {
    ExportPlan plan = plan(table, type);
    List<Walked> pages = new ArrayList<>();
    long seen = 0;
    try (Connection c = TestDatabase.pg().connect()) {
      Pager.Cursor cursor = new Pager.Cursor(null, true);
      for (Pager.Page page; (page = Pager.next(c, plan, cursor, PAGE)) != null; ) {
        assertTrue(pages.size() <= ROWS, "the pages end");
        long rows = Db.count("SELECT count(*) FROM " + plan.from() + " WHERE " + page.condition());
        assertTrue(rows > 0, "page " + pages.size() + " has rows: " + page.condition());
        String lastKey = new JsonArray(page.lastKey()).getString(0);
        assertNotNull(lastKey);
        long upTo =
            Db.count(
                "SELECT count(*) FROM public."
                    + table
                    + " WHERE id <= '"
                    + lastKey.replace("'", "''")
                    + "'::"
                    + type);
        seen += rows;
        assertEquals(upTo, seen, "the pages so far hold every row up to " + lastKey + " once");
        pages.add(new Walked(rows, lastKey));
        cursor = page.after();
      }
    }
    assertEquals(Db.count("SELECT count(*) FROM public." + table), seen, "every row in a page");
    return pages;
  }
}
