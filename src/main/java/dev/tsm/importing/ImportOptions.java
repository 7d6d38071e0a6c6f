package dev.tsm.importing;

import dev.tsm.Refusal;
import dev.tsm.csv.CsvDialect;
import io.vertx.core.json.JsonObject;

/** How a client asked for a file to be imported. */
public record ImportOptions(
    Mode mode, char delimiter, boolean header, OnError onError, Long maxErrors) {

  /** create: a new table (it must not exist); append: rows added to an existing table. */
  public enum Mode {
    CREATE,
    APPEND
  }

  /** fail: the first bad row fails the task; skip: bad rows are set aside, up to maxErrors. */
  public enum OnError {
    FAIL,
    SKIP
  }

  public static ImportOptions parse(
      String mode, String delimiter, String header, String onError, String maxErrors) {
    ImportOptions options =
        new ImportOptions(
            choice(Mode.class, "mode", mode == null ? "create" : mode),
            CsvDialect.parseDelimiter(delimiter),
            bool("header", header == null ? "true" : header),
            choice(OnError.class, "onError", onError == null ? "fail" : onError),
            count("maxErrors", maxErrors));
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
    return new JsonObject()
        .put("mode", mode.name().toLowerCase())
        .put("delimiter", String.valueOf(delimiter))
        .put("header", header)
        .put("onError", onError.name().toLowerCase())
        .put("maxErrors", maxErrors);
  }

  public static ImportOptions fromJson(JsonObject json) {
    return new ImportOptions(
        Mode.valueOf(json.getString("mode").toUpperCase()),
        json.getString("delimiter").charAt(0),
        json.getBoolean("header"),
        OnError.valueOf(json.getString("onError").toUpperCase()),
        json.getLong("maxErrors"));
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
