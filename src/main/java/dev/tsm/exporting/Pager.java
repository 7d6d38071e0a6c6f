package dev.tsm.exporting;

import dev.tsm.db.Sql;
import dev.tsm.task.Checkpoint;
import io.vertx.core.json.JsonArray;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Keyset pages: each page is the rows after the checkpoint's last key, up to a bound found first,
 * so no cursor or transaction is held between pages (nor across a pause). Tables without a primary
 * key are paged by block ranges of ctid, which PostgreSQL scans directly.
 */
final class Pager {
  private Pager() {}

  /**
   * Where the next page starts: after {@code lastKey} (null: the first row), once the file has
   * begun (its header written, or none asked for); {@code runStart} for a run's first page.
   */
  record Cursor(String lastKey, boolean begun, boolean runStart) {
    Cursor(String lastKey, boolean begun) {
      this(lastKey, begun, false);
    }

    /** Where a run starts: after its checkpoint. */
    static Cursor at(Checkpoint checkpoint) {
      return new Cursor(checkpoint.lastKey(), checkpoint.bytesDone() > 0, true);
    }
  }

  /**
   * @param condition the page's rows: {@code WHERE condition ORDER BY key}
   * @param lastKey the checkpoint's key after this page
   * @param opening the page that begins the file: its header line if any, no rows
   */
  record Page(String condition, String lastKey, boolean opening) {
    /** Where the page after this one starts. */
    Cursor after() {
      return new Cursor(lastKey, true);
    }
  }

  /**
   * The page at {@code from}, or null when every row is written. Its bounds are fixed here, before
   * it is written, so the next one can be found from it alone.
   */
  static Page next(Connection c, ExportPlan plan, Cursor from, int pageRows) throws SQLException {
    Page opening = new Page("false", from.lastKey(), true);
    if (!from.begun() && plan.header()) {
      return opening;
    }
    Page page = plan.byCtid() ? byBlocks(c, plan, from) : byKey(c, plan, from, pageRows);
    // An empty file is no gzip file: one without a header or rows still gets its (empty) member.
    if (page == null && !from.begun() && plan.compression() == Compression.GZIP) {
      return opening;
    }
    return page;
  }

  private static Page byKey(Connection c, ExportPlan plan, Cursor from, int pageRows)
      throws SQLException {
    String after =
        from.lastKey() == null ? "true" : keyTuple(plan) + " > " + values(plan, from.lastKey());
    List<String> keyText = new ArrayList<>();
    for (int i = 0; i < plan.key().size(); i++) {
      keyText.add(ExportPlan.ALIAS + "." + Sql.ident(plan.key().get(i).name()) + "::text");
    }
    String base =
        "SELECT " + String.join(", ", keyText) + " FROM " + plan.from() + " WHERE " + after;
    // A run's first page is small (PageSize), and a resume waits for its commit: scanning its
    // keys costs less than looking up the statistics (1,000 keys 0.4 ms, the lookup 4 to 5 ms).
    Estimate estimate =
        plan.key().size() == 1 && !from.runStart()
            ? fromStatistics(c, plan, from.lastKey(), pageRows)
            : null;
    List<String> upper;
    if (estimate == null) {
      upper =
          firstRow(
              c, base + " ORDER BY " + plan.orderBy() + " OFFSET " + (pageRows - 1) + " LIMIT 1");
    } else {
      upper = estimate.key() == null ? null : List.of(estimate.key());
    }
    if (upper == null) {
      String descending =
          plan.key().stream()
              .map(k -> ExportPlan.ALIAS + "." + Sql.ident(k.name()) + " DESC")
              .collect(Collectors.joining(", "));
      upper = firstRow(c, base + " ORDER BY " + descending + " LIMIT 1");
    }
    if (upper == null) {
      return null;
    }
    String lastKey = new JsonArray(new ArrayList<Object>(upper)).encode();
    return new Page(
        after + " AND " + keyTuple(plan) + " <= " + values(plan, lastKey), lastKey, false);
  }

  /**
   * Where the planner's statistics put a page's end: a key ({@code key}), or the rest of the table
   * ({@code key} null: the last key is the page's end).
   */
  private record Estimate(String key) {}

  /**
   * The page's end from the key column's histogram instead of a scan: its bounds split the table
   * into buckets of about equal rows, so the bound some buckets after {@code lastKey} is about
   * {@code pageRows} rows away. The scan reads every key of the page (and, on a table whose
   * visibility map is not yet set, as after a bulk load, every row too: a third of PostgreSQL's
   * work in an export of a freshly loaded table). Only when the estimate holds a page near its
   * size: statistics of the table as it is (at most half a page of rows changed since they were
   * taken; PostgreSQL counts changes late by up to seconds), buckets no larger than 1.5 pages, a
   * single key column of a type without collation (the histogram's order is then the key's order,
   * whatever the collations). Null: scan. Any bound after {@code lastKey} keeps the pages exact;
   * the statistics only size them.
   */
  private static Estimate fromStatistics(
      Connection c, ExportPlan plan, String lastKey, int pageRows) throws SQLException {
    Sql.Column key = plan.key().get(0);
    String after = lastKey == null ? "true" : "x.b > " + values(plan, lastKey);
    String sql =
        // The counter of changes from its function: the view pg_stat_user_tables reads every
        // table's counters, which doubled the lookup's time.
        "SELECT k.reltuples, pg_catalog.pg_stat_get_mod_since_analyze(k.oid),"
            + " cardinality(h.bounds),"
            + " ARRAY(SELECT x.b::text FROM unnest(h.bounds) WITH ORDINALITY AS x(b, i)"
            + " WHERE "
            + after
            + " ORDER BY x.i)"
            + " FROM pg_catalog.pg_class k"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
            + " JOIN pg_catalog.pg_attribute a ON a.attrelid = k.oid"
            + " CROSS JOIN LATERAL (SELECT s.histogram_bounds::text::"
            + key.type()
            + "[] AS bounds FROM pg_catalog.pg_stats s WHERE s.schemaname = n.nspname"
            + " AND s.tablename = k.relname AND s.attname = a.attname AND NOT s.inherited) h"
            + " WHERE n.nspname = ? AND k.relname = ? AND a.attname = ? AND k.relkind = 'r'"
            + " AND a.attcollation = 0 AND h.bounds IS NOT NULL";
    double rows;
    long changed;
    int buckets;
    String[] bounds;
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, plan.table().schema());
      ps.setString(2, plan.table().name());
      ps.setString(3, key.name());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        rows = rs.getDouble(1);
        changed = rs.getLong(2);
        buckets = rs.getInt(3) - 1;
        bounds = (String[]) rs.getArray(4).getArray();
      }
    }
    if (buckets < 1 || rows <= 0) {
      return null;
    }
    double perBucket = rows / buckets;
    if (perBucket > 1.5 * pageRows || changed > pageRows / 2) {
      return null;
    }
    // The first bound is the smallest key sampled: few rows come before it.
    int step = (int) Math.max(1, Math.floor(pageRows / perBucket)) + (lastKey == null ? 1 : 0);
    return new Estimate(bounds.length >= step ? bounds[step - 1] : null);
  }

  private static Page byBlocks(Connection c, ExportPlan plan, Cursor from) throws SQLException {
    long block = from.lastKey() == null ? 0 : Long.parseLong(from.lastKey());
    long blocks =
        Sql.queryLong(
            c,
            "SELECT pg_relation_size("
                + Sql.literal(plan.table().sql())
                + "::regclass)"
                + " / current_setting('block_size')::bigint",
            0);
    if (block >= blocks) {
      return null;
    }
    long end = block + plan.blocksPerPage();
    return new Page(
        ExportPlan.ALIAS
            + ".ctid >= '("
            + block
            + ",0)'::tid AND "
            + ExportPlan.ALIAS
            + ".ctid < '("
            + end
            + ",0)'::tid",
        Long.toString(end),
        false);
  }

  private static String keyTuple(ExportPlan plan) {
    return "(" + plan.orderBy() + ")";
  }

  /** The key values of a checkpoint as typed SQL literals: {@code ('a'::text, '3'::integer)}. */
  private static String values(ExportPlan plan, String lastKey) {
    JsonArray values = new JsonArray(lastKey);
    List<String> literals = new ArrayList<>();
    for (int i = 0; i < plan.key().size(); i++) {
      literals.add(Sql.literal(values.getString(i)) + "::" + plan.key().get(i).type());
    }
    return "(" + String.join(", ", literals) + ")";
  }

  private static List<String> firstRow(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      if (!rs.next()) {
        return null;
      }
      List<String> row = new ArrayList<>();
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        row.add(rs.getString(i));
      }
      return row;
    }
  }
}
