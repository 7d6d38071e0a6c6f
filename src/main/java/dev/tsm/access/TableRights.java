package dev.tsm.access;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.db.TableName;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Which tables a caller may import into and export from: the union of its roles' grants ({@code
 * tsm.security.grants.<role>.import|export}); an administrator may use every table of the allowed
 * schemas. Checked after the name (which must lie in an allowed schema), before anything is read.
 */
@ApplicationScoped
public class TableRights {
  /** What a caller wants to do with a table. */
  public enum Use {
    IMPORT("import into", "import"),
    EXPORT("export", "export");

    private final String verb;
    private final String setting;

    Use(String verb, String setting) {
      this.verb = verb;
      this.setting = setting;
    }
  }

  private final Map<String, Config.Security.Grant> grants;

  TableRights(Config config) {
    this.grants = config.security().grants();
  }

  public boolean may(Caller caller, Use use, TableName table) {
    if (caller.admin()) {
      return true;
    }
    return caller.roles().stream()
        .map(grants::get)
        .filter(grant -> grant != null)
        .flatMap(grant -> patterns(grant, use).stream())
        .anyMatch(pattern -> matches(pattern, table));
  }

  /** Refuses (403) a use the caller's roles do not grant, naming what is missing. */
  public void check(Caller caller, Use use, TableName table) {
    if (!may(caller, use, table)) {
      throw Refusal.forbidden(
          caller.subject()
              + " may not "
              + use.verb
              + " "
              + table
              + ": none of its roles "
              + new TreeSet<>(caller.roles())
              + " has a grant that covers it (tsm.security.grants.<role>."
              + use.setting
              + ")");
    }
  }

  private static List<String> patterns(Config.Security.Grant grant, Use use) {
    Function<Config.Security.Grant, Optional<List<String>>> of =
        use == Use.IMPORT ? Config.Security.Grant::importInto : Config.Security.Grant::exportFrom;
    return of.apply(grant).orElse(List.of());
  }

  /** {@code *}, {@code schema.*} or {@code schema.table}; names compare exactly, as stored. */
  static boolean matches(String pattern, TableName table) {
    String p = pattern.trim();
    if (p.equals("*")) {
      return true;
    }
    int dot = p.indexOf('.');
    if (dot < 0) {
      return false;
    }
    String schema = p.substring(0, dot);
    String name = p.substring(dot + 1);
    return schema.equals(table.schema()) && (name.equals("*") || name.equals(table.name()));
  }
}
