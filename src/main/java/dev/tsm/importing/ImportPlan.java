package dev.tsm.importing;

import dev.tsm.db.Sql;
import dev.tsm.task.Task;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The columns of an import, in file order, with the SQL type each takes in the staging table (and
 * so in the target). Fixed when the task is created; stored with it.
 */
record ImportPlan(List<Column> columns) {

  record Column(String name, String type) {}

  JsonArray toJson() {
    JsonArray array = new JsonArray();
    columns.forEach(c -> array.add(new JsonObject().put("name", c.name()).put("type", c.type())));
    return array;
  }

  static ImportPlan of(Task task) {
    List<Column> columns = new ArrayList<>();
    for (Object o : task.columns()) {
      JsonObject c = (JsonObject) o;
      columns.add(new Column(c.getString("name"), c.getString("type")));
    }
    return new ImportPlan(columns);
  }

  /** {@code "a", "b"} */
  String columnList() {
    return columns.stream().map(c -> Sql.ident(c.name())).collect(Collectors.joining(", "));
  }

  /** {@code "a" integer, "b" text} */
  String columnDefinitions() {
    return columns.stream()
        .map(c -> Sql.ident(c.name()) + " " + c.type())
        .collect(Collectors.joining(", "));
  }
}
