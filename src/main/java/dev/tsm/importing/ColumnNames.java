package dev.tsm.importing;

import dev.tsm.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Column names from a header, made safe for PostgreSQL: kept as written (they are always quoted),
 * trimmed, control characters removed, cut to PostgreSQL's 63 bytes; an empty name becomes {@code
 * column_N} and a repeated one gets a suffix {@code _2}, {@code _3}...
 */
final class ColumnNames {
  private static final int MAX_BYTES = 63;

  /** Names PostgreSQL gives every table's system columns: no other column may take them. */
  private static final Set<String> SYSTEM =
      Set.of("tableoid", "xmin", "cmin", "xmax", "cmax", "ctid");

  private ColumnNames() {}

  static List<String> of(List<String> header) {
    List<String> names = new ArrayList<>();
    Set<String> taken = new HashSet<>();
    for (int i = 0; i < header.size(); i++) {
      String raw = header.get(i) == null ? "" : header.get(i);
      String base = cut(raw.replaceAll("\\p{Cntrl}", "").strip(), MAX_BYTES);
      if (base.isEmpty()) {
        base = "column_" + (i + 1);
      }
      String name = base;
      for (int n = 2; !taken.add(name); n++) {
        String suffix = "_" + n;
        name = cut(base, MAX_BYTES - suffix.length()) + suffix;
      }
      names.add(name);
    }
    return names;
  }

  /**
   * Refuses names of system columns for a new table (quoted names are case-sensitive: {@code CTID}
   * is an ordinary column).
   */
  static void checkNotSystem(List<String> names) {
    List<String> taken = names.stream().filter(SYSTEM::contains).toList();
    if (!taken.isEmpty()) {
      throw Refusal.invalid(
          "the header names "
              + String.join(", ", taken)
              + ": PostgreSQL reserves "
              + (taken.size() == 1 ? "this name" : "these names")
              + " for the system columns of every table; rename "
              + (taken.size() == 1 ? "it" : "them")
              + " in the header (for example "
              + taken.get(0)
              + "_1)");
    }
  }

  /**
   * Refuses a name the client chose ({@code rename}) that a header could not give: empty, with
   * control characters, longer than PostgreSQL's 63 bytes, or a system column's.
   */
  static void checkChosen(String name) {
    if (name.isEmpty()
        || !name.equals(name.strip())
        || name.codePoints().anyMatch(Character::isISOControl)) {
      throw Refusal.invalid(
          "parameter 'rename' gives the column name '"
              + ColumnChoices.cut(name)
              + "': a name must not be empty nor hold control characters");
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      throw Refusal.invalid(
          "parameter 'rename' gives the column name '"
              + ColumnChoices.cut(name)
              + "', longer than PostgreSQL's "
              + MAX_BYTES
              + " bytes");
    }
    checkNotSystem(List.of(name));
  }

  static List<String> numbered(int count) {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      names.add("column_" + i);
    }
    return names;
  }

  /** At most {@code maxBytes} of UTF-8, never cutting a character in two. */
  private static String cut(String text, int maxBytes) {
    if (text.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
      return text;
    }
    StringBuilder out = new StringBuilder();
    int bytes = 0;
    for (int cp : text.codePoints().toArray()) {
      int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + size > maxBytes) {
        break;
      }
      out.appendCodePoint(cp);
      bytes += size;
    }
    return out.toString();
  }
}
