package dev.tsm.exporting;

import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import dev.tsm.task.Task;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What an export writes and in which order: the columns, and the key that orders and pages the rows
 * (the primary key; a table without one is paged by physical position, ctid).
 *
 * @param blocksPerPage for ctid paging: table blocks read per page
 * @param compression how the file is stored: plain CSV, or a gzip member per page
 */
record ExportPlan(
    TableName table,
    List<Sql.Column> columns,
    List<Sql.Column> key,
    char delimiter,
    boolean header,
    long blocksPerPage,
    Compression compression) {

  boolean byCtid() {
    return key.isEmpty();
  }

  JsonArray columnsJson() {
    JsonArray array = new JsonArray();
    columns.forEach(c -> array.add(new JsonObject().put("name", c.name()).put("type", c.type())));
    return array;
  }

  JsonObject optionsJson() {
    JsonArray keyJson = new JsonArray();
    key.forEach(c -> keyJson.add(new JsonObject().put("name", c.name()).put("type", c.type())));
    return new JsonObject()
        .put("columns", columns.stream().map(Sql.Column::name).toList())
        .put("delimiter", String.valueOf(delimiter))
        .put("header", header)
        .put("orderBy", byCtid() ? List.of("ctid") : key.stream().map(Sql.Column::name).toList())
        .put("key", keyJson)
        .put("blocksPerPage", blocksPerPage)
        .put("compression", compression.value());
  }

  static ExportPlan of(Task task) {
    JsonObject options = task.options();
    return new ExportPlan(
        new TableName(task.schema(), task.table()),
        columns(task.columns()),
        columns(options.getJsonArray("key")),
        options.getString("delimiter").charAt(0),
        options.getBoolean("header"),
        options.getLong("blocksPerPage"),
        Compression.of(task));
  }

  private static List<Sql.Column> columns(JsonArray array) {
    List<Sql.Column> list = new ArrayList<>();
    for (Object o : array) {
      JsonObject c = (JsonObject) o;
      list.add(new Sql.Column(c.getString("name"), c.getString("type")));
    }
    return list;
  }

  String selectList() {
    return columns.stream().map(c -> Sql.ident(c.name())).collect(Collectors.joining(", "));
  }

  /** The table's alias in every query: qualified names always mean the table's columns. */
  static final String ALIAS = "src";

  /** The key, qualified: {@code src."a", src."b"} (an output column's name never captures it). */
  String orderBy() {
    return byCtid()
        ? ALIAS + ".ctid"
        : key.stream()
            .map(c -> ALIAS + "." + Sql.ident(c.name()))
            .collect(Collectors.joining(", "));
  }

  /** {@code "schema"."table" src} */
  String from() {
    return table.sql() + " " + ALIAS;
  }

  /** {@code COPY (SELECT cols FROM t WHERE condition ORDER BY key) TO STDOUT ...} */
  String copySql(String condition, boolean withHeader) {
    return "COPY (SELECT "
        + selectList()
        + " FROM "
        + from()
        + " WHERE "
        + condition
        + " ORDER BY "
        + orderBy()
        + ") TO STDOUT WITH (FORMAT csv, DELIMITER "
        + Sql.literal(String.valueOf(delimiter))
        + (withHeader ? ", HEADER" : "")
        + ")";
  }
}
