package dev.tsm.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Identifier quoting and catalog look-ups over JDBC. */
public final class Sql {
  private Sql() {}

  /** A quoted identifier: any text but NUL is safe inside double quotes. */
  public static String ident(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** A quoted string literal. */
  public static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  /** A column of an existing table. */
  public record Column(String name, String type) {}

  public static boolean tableExists(Connection c, TableName table) throws SQLException {
    String sql =
        "SELECT 1 FROM pg_catalog.pg_class k JOIN pg_catalog.pg_namespace n ON n.oid ="
            + " k.relnamespace WHERE n.nspname = ? AND k.relname = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, table.schema());
      ps.setString(2, table.name());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The columns of a table, in order, with their SQL types; empty if there is no such table. */
  public static List<Column> columns(Connection c, TableName table) throws SQLException {
    String sql =
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)"
            + " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class k ON k.oid = a.attrelid"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
            + " WHERE n.nspname = ? AND k.relname = ? AND k.relkind IN ('r', 'p')"
            + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
    List<Column> columns = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, table.schema());
      ps.setString(2, table.name());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add(new Column(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return columns;
  }

  /** The primary key's columns in key order, with their types; empty without a primary key. */
  public static List<Column> primaryKey(Connection c, TableName table) throws SQLException {
    String sql =
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)"
            + " FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a"
            + " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            + " WHERE i.indrelid = ?::regclass AND i.indisprimary"
            + " ORDER BY array_position(i.indkey::int2[], a.attnum)";
    List<Column> key = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, table.sql());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          key.add(new Column(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return key;
  }

  /** The first column of the first row as a long, or {@code fallback} without rows. */
  public static long queryLong(Connection c, String sql, long fallback) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getLong(1) : fallback;
    }
  }

  public static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
