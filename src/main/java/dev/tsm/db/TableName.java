package dev.tsm.db;

import dev.tsm.Refusal;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A table a client names: {@code name} or {@code schema.name}, plain identifiers only, in one of
 * the configured schemas. Anything else, SQL included, is refused before it reaches a statement.
 */
public record TableName(String schema, String name) {
  /** Never reachable, whatever tsm.schemas says. */
  private static final List<String> RESERVED =
      List.of("tsm", "pg_catalog", "information_schema", "pg_toast");

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  public static TableName parse(String text, List<String> schemas) {
    if (text == null || text.isBlank()) {
      throw Refusal.invalid("the parameter 'table' is required");
    }
    String[] parts = text.split("\\.", -1);
    if (parts.length > 2 || !IDENTIFIER.matcher(parts[parts.length - 1]).matches()) {
      throw Refusal.invalid(
          "'"
              + abbreviate(text)
              + "' is not a valid table name: use letters, digits and underscores (at most 63,"
              + " not starting with a digit), optionally prefixed by a schema and a dot");
    }
    String schema = parts.length == 2 ? parts[0] : schemas.get(0);
    if (RESERVED.contains(schema.toLowerCase())) {
      throw Refusal.invalid(
          "schema '"
              + schema
              + "' is not open to clients: it holds PostgreSQL's catalogs or the"
              + " service's own tables");
    }
    if (!schemas.contains(schema)) {
      throw Refusal.invalid(
          "schema '" + abbreviate(schema) + "' is not one of the allowed schemas " + schemas);
    }
    return new TableName(schema, parts[parts.length - 1]);
  }

  /** The name quoted for SQL. */
  public String sql() {
    return Sql.ident(schema) + "." + Sql.ident(name);
  }

  @Override
  public String toString() {
    return schema + "." + name;
  }

  private static String abbreviate(String text) {
    return text.length() > 80 ? text.substring(0, 80) + "..." : text;
  }
}
