package dev.tsm.importing;

import dev.tsm.Refusal;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The client's choices about columns: {@code types=zip:text,amount:numeric(12,2)} (types of a new
 * table's columns instead of the inferred ones) and {@code rename=Zip Code:zip} (header names to
 * column names). Parsed with the other parameters; the types are checked against the database
 * before the body is read, the names against the header once it is.
 */
final class ColumnChoices {
  /** A type name is at most this long (PostgreSQL's own names are shorter). */
  static final int MAX_TYPE_LENGTH = 63;

  /** A table has at most 1600 columns: no more pairs than that. */
  private static final int MAX_PAIRS = 1600;

  private static final String WORD = "[A-Za-z_][A-Za-z0-9_]*";

  /**
   * What a type name may look like, spaces collapsed: words, an optional schema, one modifier of
   * one or two numbers, array brackets: {@code numeric(12,2)}, {@code timestamp(3) with time zone},
   * {@code character varying(20)}, {@code public.mood}, {@code integer[]}. Nothing else (no quote,
   * semicolon or dash) can reach a statement: the name is written into the table's definition.
   */
  private static final Pattern TYPE_SYNTAX =
      Pattern.compile(
          WORD
              + "(\\."
              + WORD
              + ")?( "
              + WORD
              + ")*( ?\\( ?[0-9]{1,4}( ?, ?-?[0-9]{1,4})? ?\\))?( "
              + WORD
              + ")*( ?\\[\\])*");

  private ColumnChoices() {}

  /** {@code types}: column to type, types checked for syntax (null or empty: none). */
  static Map<String, String> types(String value) {
    Map<String, String> types = pairs("types", value, "zip:text,amount:numeric(12,2)");
    types.replaceAll(
        (column, type) -> {
          String t = type.replaceAll("\\s+", " ");
          if (t.length() > MAX_TYPE_LENGTH || !TYPE_SYNTAX.matcher(t).matches()) {
            throw Refusal.invalid(
                "parameter 'types' gives column '"
                    + column
                    + "' the type '"
                    + cut(type)
                    + "', which is not a PostgreSQL type name (for example text, integer,"
                    + " numeric(12,2), date, timestamp with time zone)");
          }
          return t.toLowerCase(java.util.Locale.ROOT);
        });
    return Collections.unmodifiableMap(types);
  }

  /** {@code rename}: header name to column name, the new names checked as header names are. */
  static Map<String, String> renames(String value) {
    Map<String, String> rename = pairs("rename", value, "Zip Code:zip");
    for (Map.Entry<String, String> e : rename.entrySet()) {
      ColumnNames.checkChosen(e.getValue());
    }
    return Collections.unmodifiableMap(rename);
  }

  /**
   * Comma-separated {@code name:value} pairs; a comma inside parentheses belongs to its value, and
   * the last colon separates the name from the value.
   */
  private static Map<String, String> pairs(String parameter, String value, String example) {
    Map<String, String> pairs = new LinkedHashMap<>();
    if (value == null || value.isBlank()) {
      return pairs;
    }
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      if (ch == '(') {
        depth++;
      } else if (ch == ')') {
        depth = Math.max(0, depth - 1);
      } else if (ch == ',' && depth == 0) {
        parts.add(value.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(value.substring(start));
    if (parts.size() > MAX_PAIRS) {
      throw Refusal.invalid("parameter '" + parameter + "' has more than " + MAX_PAIRS + " pairs");
    }
    for (String part : parts) {
      int colon = part.lastIndexOf(':');
      String name = colon < 0 ? "" : part.substring(0, colon).strip();
      String chosen = colon < 0 ? "" : part.substring(colon + 1).strip();
      if (name.isEmpty() || chosen.isEmpty()) {
        throw Refusal.invalid(
            "parameter '"
                + parameter
                + "' takes comma-separated name:value pairs, e.g. "
                + parameter
                + "="
                + example
                + "; not '"
                + cut(part)
                + "'");
      }
      if (pairs.put(name, chosen) != null) {
        throw Refusal.invalid(
            "parameter '" + parameter + "' names the column '" + cut(name) + "' twice");
      }
    }
    return pairs;
  }

  /**
   * Asks PostgreSQL whether each type exists and may be a column's: a base, domain or enum type (no
   * pseudo-type such as record or anyelement), with a modifier it accepts ({@code to_regtype}
   * checks it). On a connection in auto-commit: a refused type leaves nothing to roll back.
   */
  static void checkTypes(Connection c, Map<String, String> types) throws SQLException {
    Set<String> seen = new HashSet<>();
    for (Map.Entry<String, String> e : types.entrySet()) {
      String type = e.getValue();
      if (!seen.add(type)) {
        continue;
      }
      String kind;
      try (var ps =
          c.prepareStatement("SELECT typtype FROM pg_type WHERE oid = to_regtype(?)::oid")) {
        ps.setString(1, type);
        try (var rs = ps.executeQuery()) {
          kind = rs.next() ? rs.getString(1) : null;
        }
      } catch (SQLException ex) {
        // A modifier it does not take (numeric(2000,2)): PostgreSQL says why.
        throw typeRefused(e, firstLine(ex.getMessage()));
      }
      if (kind == null) {
        throw typeRefused(e, "PostgreSQL has no such type");
      }
      if (!Set.of("b", "d", "e").contains(kind)) {
        throw typeRefused(e, "not a type a column can take (use a base, domain or enum type)");
      }
    }
  }

  private static Refusal typeRefused(Map.Entry<String, String> choice, String why) {
    return Refusal.invalid(
        "parameter 'types': '"
            + choice.getValue()
            + "' (column '"
            + cut(choice.getKey())
            + "'): "
            + why);
  }

  /**
   * The column names the header's names become: renamed where {@code rename} says so. A name to
   * rename that is not in the header, or two columns of one name after renaming, is refused.
   */
  static List<String> renamed(List<String> names, Map<String, String> rename) {
    List<String> unknown =
        rename.keySet().stream()
            .filter(from -> !names.contains(from))
            .map(ColumnChoices::cut)
            .toList();
    if (!unknown.isEmpty()) {
      throw Refusal.invalid(
          "parameter 'rename' names "
              + String.join(", ", unknown)
              + ", not in the file's columns "
              + names.stream().map(ColumnChoices::cut).toList());
    }
    List<String> result = names.stream().map(n -> rename.getOrDefault(n, n)).toList();
    Set<String> seen = new HashSet<>();
    for (String name : result) {
      if (!seen.add(name)) {
        throw Refusal.invalid(
            "after renaming, two columns are named '" + cut(name) + "': rename one of them");
      }
    }
    return result;
  }

  /**
   * The type a chosen type overrides for each column (null where none), by its name after renaming
   * or as the header gave it. A type for a column that is in neither is refused.
   */
  static List<String> chosenTypes(
      List<String> headerNames, List<String> columns, Map<String, String> types) {
    List<String> unknown =
        types.keySet().stream()
            .filter(n -> !columns.contains(n) && !headerNames.contains(n))
            .map(ColumnChoices::cut)
            .toList();
    if (!unknown.isEmpty()) {
      throw Refusal.invalid(
          "parameter 'types' names "
              + String.join(", ", unknown)
              + ", not in the file's columns "
              + columns.stream().map(ColumnChoices::cut).toList());
    }
    List<String> chosen = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      String type = types.get(columns.get(i));
      chosen.add(type != null ? type : types.get(headerNames.get(i)));
    }
    return chosen;
  }

  /**
   * Which of {@code values} PostgreSQL's {@code type} does not take, each with PostgreSQL's reason,
   * at most {@code max} of them: the values are cast in one statement, and halves of a failing
   * statement again, each under a savepoint. Call in a transaction the caller rolls back; {@code
   * type} is one checked by {@link #checkTypes} or a table's own.
   */
  static Map<Integer, String> misfits(Connection c, String type, List<String> values, int max)
      throws SQLException {
    Map<Integer, String> found = new java.util.TreeMap<>();
    misfits(c, type, values, 0, values.size(), max, found);
    return found;
  }

  private static void misfits(
      Connection c,
      String type,
      List<String> values,
      int from,
      int to,
      int max,
      Map<Integer, String> found)
      throws SQLException {
    if (from >= to || found.size() >= max) {
      return;
    }
    var savepoint = c.setSavepoint();
    try (var ps = c.prepareStatement("SELECT count(v::" + type + ") FROM unnest(?::text[]) v")) {
      ps.setArray(1, c.createArrayOf("text", values.subList(from, to).toArray()));
      ps.executeQuery().close();
      c.releaseSavepoint(savepoint);
    } catch (SQLException e) {
      c.rollback(savepoint);
      if (to - from == 1) {
        found.put(from, firstLine(e.getMessage()));
        return;
      }
      int middle = (from + to) >>> 1;
      misfits(c, type, values, from, middle, max, found);
      misfits(c, type, values, middle, to, max, found);
    }
  }

  private static String firstLine(String message) {
    String text = String.valueOf(message);
    int end = text.indexOf('\n');
    return (end < 0 ? text : text.substring(0, end)).replaceFirst("^ERROR: ", "");
  }

  /** A name or value quoted in a message: at most 100 characters of it. */
  static String cut(String text) {
    return text.length() <= 100 ? text : text.substring(0, 100) + "...";
  }
}
