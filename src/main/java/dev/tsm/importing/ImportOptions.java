package dev.tsm.importing;

import dev.tsm.Refusal;
import dev.tsm.csv.CsvDialect;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a client asked for a file to be imported.
 *
 * @param types column name to PostgreSQL type, overriding the inferred types (mode=create only);
 *     checked for syntax here and against the database by {@link ColumnChoices#checkTypes}
 * @param rename header name to column name
 */
public record ImportOptions(
    Mode mode,
    char delimiter,
    boolean header,
    OnError onError,
    Long maxErrors,
    List<String> key,
    Map<String, String> types,
    Map<String, String> rename) {

  /**
   * create: a new table (it must not exist); append: rows added to an existing table; replace: an
   * existing table's rows replaced at completion; upsert: rows merged into an existing table on
   * {@code key} (inserted, or updated where the key exists).
   */
  public enum Mode {
    CREATE,
    APPEND,
    REPLACE,
    UPSERT;

    /** Whether the target table must exist already. */
    public boolean intoExisting() {
      return this != CREATE;
    }
  }

  /** fail: the first bad row fails the task; skip: bad rows are set aside, up to maxErrors. */
  public enum OnError {
    FAIL,
    SKIP
  }

  /** Longest key: a unique index covers at most 32 columns. */
  private static final int MAX_KEY_COLUMNS = 32;

  public static ImportOptions parse(
      String mode, String delimiter, String header, String onError, String maxErrors) {
    return parse(mode, delimiter, header, onError, maxErrors, null);
  }

  public static ImportOptions parse(
      String mode, String delimiter, String header, String onError, String maxErrors, String key) {
    return parse(mode, delimiter, header, onError, maxErrors, key, null, null);
  }

  public static ImportOptions parse(
      String mode,
      String delimiter,
      String header,
      String onError,
      String maxErrors,
      String key,
      String types,
      String rename) {
    ImportOptions options =
        new ImportOptions(
            choice(Mode.class, "mode", mode == null ? "create" : mode),
            CsvDialect.parseDelimiter(delimiter),
            bool("header", header == null ? "true" : header),
            choice(OnError.class, "onError", onError == null ? "fail" : onError),
            count("maxErrors", maxErrors),
            key(key),
            ColumnChoices.types(types),
            ColumnChoices.renames(rename));
    if (!options.types().isEmpty() && options.mode() != Mode.CREATE) {
      throw Refusal.invalid(
          "parameter 'types' applies only with mode=create: an existing table keeps its column"
              + " types");
    }
    if (options.mode() == Mode.UPSERT && options.key() == null) {
      throw Refusal.invalid(
          "mode=upsert needs key: the columns that identify a row, e.g. key=id or"
              + " key=country,code (a unique index of the table must cover exactly them)");
    }
    if (options.mode() != Mode.UPSERT && options.key() != null) {
      throw Refusal.invalid("parameter 'key' applies only with mode=upsert");
    }
    if (options.maxErrors() != null && options.onError() != OnError.SKIP) {
      throw Refusal.invalid(
          "parameter 'maxErrors' applies only with onError=skip (with onError=fail the first bad"
              + " row fails the task)");
    }
    return options;
  }

  public CsvDialect dialect() {
    return new CsvDialect((byte) delimiter, header);
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("mode", mode.name().toLowerCase())
            .put("delimiter", String.valueOf(delimiter))
            .put("header", header)
            .put("onError", onError.name().toLowerCase())
            .put("maxErrors", maxErrors)
            .put("key", key == null ? null : new JsonArray(key));
    if (!types.isEmpty()) {
      json.put("types", new JsonObject(new LinkedHashMap<>(types)));
    }
    if (!rename.isEmpty()) {
      json.put("rename", new JsonObject(new LinkedHashMap<>(rename)));
    }
    return json;
  }

  public static ImportOptions fromJson(JsonObject json) {
    return new ImportOptions(
        Mode.valueOf(json.getString("mode").toUpperCase()),
        json.getString("delimiter").charAt(0),
        json.getBoolean("header"),
        OnError.valueOf(json.getString("onError").toUpperCase()),
        json.getLong("maxErrors"),
        json.getJsonArray("key") == null
            ? null
            : json.getJsonArray("key").stream().map(String::valueOf).toList(),
        pairs(json.getJsonObject("types")),
        pairs(json.getJsonObject("rename")));
  }

  private static Map<String, String> pairs(JsonObject json) {
    Map<String, String> pairs = new LinkedHashMap<>();
    if (json != null) {
      json.forEach(e -> pairs.put(e.getKey(), String.valueOf(e.getValue())));
    }
    return Collections.unmodifiableMap(pairs);
  }

  /** The same options with the key's names as the table spells them. */
  ImportOptions withKey(List<String> resolved) {
    return new ImportOptions(mode, delimiter, header, onError, maxErrors, resolved, types, rename);
  }

  private static List<String> key(String value) {
    if (value == null) {
      return null;
    }
    List<String> names = new ArrayList<>();
    for (String part : value.split(",", -1)) {
      String name = part.trim();
      if (name.isEmpty()) {
        throw Refusal.invalid("parameter 'key' names an empty column: '" + value + "'");
      }
      if (names.contains(name)) {
        throw Refusal.invalid("parameter 'key' names the column '" + name + "' twice");
      }
      names.add(name);
    }
    if (names.size() > MAX_KEY_COLUMNS) {
      throw Refusal.invalid("parameter 'key' names more than " + MAX_KEY_COLUMNS + " columns");
    }
    return List.copyOf(names);
  }

  private static <E extends Enum<E>> E choice(Class<E> type, String name, String value) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(value)) {
        return e;
      }
    }
    StringBuilder allowed = new StringBuilder();
    for (E e : type.getEnumConstants()) {
      allowed.append(allowed.length() == 0 ? "" : " or ").append(e.name().toLowerCase());
    }
    throw Refusal.invalid("parameter '" + name + "' must be " + allowed + ", not '" + value + "'");
  }

  private static boolean bool(String name, String value) {
    if ("true".equalsIgnoreCase(value) || "false".equalsIgnoreCase(value)) {
      return Boolean.parseBoolean(value);
    }
    throw Refusal.invalid("parameter '" + name + "' must be true or false, not '" + value + "'");
  }

  private static Long count(String name, String value) {
    if (value == null) {
      return null;
    }
    try {
      long n = Long.parseLong(value);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw Refusal.invalid(
        "parameter '" + name + "' must be a whole number of 0 or more, not '" + value + "'");
  }
}
