package dev.tsm.importing;

import dev.tsm.Refusal;
import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * How a completed import's staging table reaches an existing table, in the publishing transaction:
 * appended, replacing its rows, or merged on a key. Readers of the table see its old rows until
 * that transaction commits, then the new ones; a terminated import never touches it.
 */
final class LoadModes {
  private LoadModes() {}

  /**
   * The key's columns as the plan names them (each must be one of the file's columns, matched as
   * header names are), checked against the table's unique indexes: ON CONFLICT needs one that
   * covers exactly them.
   */
  static List<String> checkKey(
      Connection c, TableName table, ImportOptions options, ImportPlan plan) throws SQLException {
    List<String> key = key(options, plan, table);
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = ?::regclass"
                + " AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL"
                + " AND i.indnkeyatts = cardinality(?::text[])"
                + " AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text)"
                + "   FROM pg_attribute a WHERE a.attrelid = i.indrelid"
                + "   AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1]))"
                + "   = (SELECT array_agg(k ORDER BY k) FROM unnest(?::text[]) k))")) {
      ps.setString(1, table.sql());
      ps.setArray(2, c.createArrayOf("text", key.toArray()));
      ps.setArray(3, c.createArrayOf("text", key.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw Refusal.invalid(
              "table "
                  + table
                  + " has no unique index or primary key on exactly ("
                  + String.join(", ", key)
                  + "): mode=upsert merges on one; add it (CREATE UNIQUE INDEX ... ON "
                  + table
                  + " ("
                  + String.join(", ", key)
                  + ")) or name the key it has");
        }
      }
    }
    return key;
  }

  private static List<String> key(ImportOptions options, ImportPlan plan, TableName table) {
    List<String> resolved = new ArrayList<>();
    for (String name : options.key()) {
      List<String> matches =
          plan.columns().stream()
              .map(ImportPlan.Column::name)
              .filter(col -> col.equals(name))
              .toList();
      if (matches.isEmpty()) {
        matches =
            plan.columns().stream()
                .map(ImportPlan.Column::name)
                .filter(col -> col.equalsIgnoreCase(name))
                .toList();
      }
      if (matches.size() != 1) {
        throw Refusal.invalid(
            "the key column '"
                + name
                + "' is not one of the file's columns loaded into "
                + table
                + ": "
                + plan.columns().stream().map(ImportPlan.Column::name).toList());
      }
      resolved.add(matches.get(0));
    }
    return resolved;
  }

  /** Moves the staging table's rows into the target as the mode says, then drops it. */
  static void publishInto(Connection c, ImportSpec spec) throws SQLException {
    String target = spec.target().sql();
    String columns = spec.plan().columnList();
    String select = "SELECT " + columns + " FROM " + spec.staging();
    switch (spec.options().mode()) {
      case REPLACE -> {
        // DELETE, not TRUNCATE: readers keep reading the old rows (MVCC) instead of waiting on
        // an exclusive lock, and a snapshot older than the publish never sees the table empty.
        Sql.execute(c, "DELETE FROM " + target);
        Sql.execute(c, "INSERT INTO " + target + " (" + columns + ") " + select);
      }
      case UPSERT -> {
        List<String> key = key(spec.options(), spec.plan(), spec.target());
        refuseDuplicateKeys(c, spec, key);
        Sql.execute(
            c, "INSERT INTO " + target + " (" + columns + ") " + select + onConflict(spec, key));
      }
      default -> Sql.execute(c, "INSERT INTO " + target + " (" + columns + ") " + select);
    }
    Sql.execute(c, "DROP TABLE " + spec.staging());
  }

  private static String onConflict(ImportSpec spec, List<String> key) {
    String conflict =
        " ON CONFLICT (" + key.stream().map(Sql::ident).collect(Collectors.joining(", ")) + ")";
    List<String> others =
        spec.plan().columns().stream()
            .map(ImportPlan.Column::name)
            .filter(name -> !key.contains(name))
            .toList();
    if (others.isEmpty()) {
      return conflict + " DO NOTHING";
    }
    return conflict
        + " DO UPDATE SET "
        + others.stream()
            .map(name -> Sql.ident(name) + " = EXCLUDED." + Sql.ident(name))
            .collect(Collectors.joining(", "));
  }

  /**
   * A file that holds one key twice cannot be merged (which row would win is not the file's order
   * once batches were copied side by side): the task fails naming the key, and nothing is
   * published.
   */
  private static void refuseDuplicateKeys(Connection c, ImportSpec spec, List<String> key)
      throws SQLException {
    String cols = key.stream().map(Sql::ident).collect(Collectors.joining(", "));
    String sql =
        "SELECT ("
            + key.stream()
                .map(k -> "COALESCE(" + Sql.ident(k) + "::text, 'NULL')")
                .collect(Collectors.joining(" || ', ' || "))
            + ") FROM "
            + spec.staging()
            + " GROUP BY "
            + cols
            + " HAVING count(*) > 1 LIMIT 1";
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      if (rs.next()) {
        throw new IllegalStateException(
            "the file holds the key ("
                + String.join(", ", key)
                + ") = ("
                + rs.getString(1)
                + ") more than once: mode=upsert merges one row per key; remove the duplicates"
                + " and import the file again");
      }
    }
  }
}
