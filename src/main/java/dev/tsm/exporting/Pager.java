package dev.tsm.exporting;

import dev.tsm.db.Sql;
import dev.tsm.task.Checkpoint;
import io.vertx.core.json.JsonArray;
import java.sql.Connection;
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
   * begun (its header written, or none asked for).
   */
  record Cursor(String lastKey, boolean begun) {
    /** Where a run starts: after its checkpoint. */
    static Cursor at(Checkpoint checkpoint) {
      return new Cursor(checkpoint.lastKey(), checkpoint.bytesDone() > 0);
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
    List<String> upper =
        firstRow(
            c, base + " ORDER BY " + plan.orderBy() + " OFFSET " + (pageRows - 1) + " LIMIT 1");
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
