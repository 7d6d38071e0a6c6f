package dev.tsm.importing;

import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import dev.tsm.task.Task;

/**
 * What an import task is, typed, read once from its stored row: the options the client gave, the
 * columns it loads, its target and its staging table.
 */
record ImportSpec(TableName target, ImportOptions options, ImportPlan plan, String stagingTable) {

  static ImportSpec of(Task task) {
    return new ImportSpec(
        new TableName(task.schema(), task.table()),
        ImportOptions.fromJson(task.options()),
        ImportPlan.of(task),
        task.stagingTable());
  }

  /** The staging table, quoted, in {@code tsm}. */
  String staging() {
    return "tsm." + Sql.ident(stagingTable);
  }

  /** The statement one batch is copied with. */
  String copySql() {
    return "COPY "
        + staging()
        + " ("
        + plan.columnList()
        + ") FROM STDIN WITH (FORMAT csv, DELIMITER "
        + Sql.literal(String.valueOf(options.delimiter()))
        + ")";
  }
}
