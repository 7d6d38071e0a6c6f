package dev.tsm.exporting;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.access.TableRights;
import dev.tsm.csv.CsvDialect;
import dev.tsm.db.Sql;
import dev.tsm.db.TableName;
import dev.tsm.db.Transactions;
import dev.tsm.task.CallbackUrl;
import dev.tsm.task.Checkpoint;
import dev.tsm.task.NewTask;
import dev.tsm.task.OwnerQuota;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskRunner;
import dev.tsm.task.TaskStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Accepts an export: checks the table and columns, counts the rows, stores the task. */
@ApplicationScoped
public class ExportService {
  /** PostgreSQL's limit on the columns of a table: no export can name more. */
  private static final int MAX_COLUMNS = 1600;

  private final Config config;
  private final Transactions transactions;
  private final TaskStore store;
  private final TaskRunner runner;
  private final TableRights rights;
  private final OwnerQuota quota;

  ExportService(
      Config config,
      Transactions transactions,
      TaskStore store,
      TaskRunner runner,
      TableRights rights,
      OwnerQuota quota) {
    this.config = config;
    this.transactions = transactions;
    this.store = store;
    this.runner = runner;
    this.rights = rights;
    this.quota = quota;
  }

  /** What a client asks for; only {@code table} is required. */
  @Schema(
      name = "ExportRequest",
      requiredProperties = "table",
      example =
          "{\"table\": \"sales\", \"columns\": [\"id\", \"amount\"], \"delimiter\": \",\","
              + " \"header\": true, \"compression\": \"gzip\"}")
  public record Request(
      @Schema(
              description =
                  "The table, as name or schema.name (in a schema of tsm.schemas; public by"
                      + " default)",
              example = "sales")
          String table,
      @Schema(
              description =
                  "The columns to write, in this order; every column of the table in its order"
                      + " when left out or empty")
          List<String> columns,
      @Schema(description = "One character (\\t for a tab); a comma when left out", example = ",")
          String delimiter,
      @Schema(description = "Whether the file starts with a header row; true when left out")
          Boolean header,
      @Schema(
              description =
                  "none (the default): a CSV file; gzip: the CSV file gzip-compressed, sent as"
                      + " application/gzip under the name <table>.csv.gz",
              enumeration = {"none", "gzip"})
          String compression,
      @Schema(
              description =
                  "URL (absolute http or https, up to 2048 characters) the final task is POSTed"
                      + " to when the task ends: once per final state, signed, retried",
              example = "https://example.com/hooks/tsm")
          String callback) {}

  /** Stores the export task of {@code caller}, who must have the right to export the table. */
  public UUID create(Caller caller, Request request) {
    if (request == null) {
      throw Refusal.invalid(
          "the body must be JSON such as {\"table\": \"sales\"} (optional: columns, delimiter, header,"
              + " compression, callback)");
    }
    TableName table = TableName.parse(request.table(), config.schemas());
    rights.check(caller, TableRights.Use.EXPORT, table);
    if (request.columns() != null && request.columns().size() > MAX_COLUMNS) {
      throw Refusal.invalid(
          "'columns' names "
              + request.columns().size()
              + " columns; a table has at most "
              + MAX_COLUMNS
              + " (PostgreSQL's limit)");
    }
    char delimiter = CsvDialect.parseDelimiter(request.delimiter());
    Compression compression = Compression.parse(request.compression());
    String callback = CallbackUrl.check(request.callback());
    UUID id = UUID.randomUUID();
    transactions.inTransaction(
        c -> {
          ExportPlan plan = plan(c, table, request, delimiter, compression);
          quota.admit(c, caller);
          store.insert(
              c,
              new NewTask(
                  id,
                  TaskKind.EXPORT,
                  table.schema(),
                  table.name(),
                  CallbackUrl.into(plan.optionsJson(), callback),
                  plan.columnsJson(),
                  null,
                  id + ".csv",
                  null,
                  null,
                  rowCount(c, table),
                  new Checkpoint(0, 0, 0, 0, null),
                  null,
                  caller.subject()));
          return null;
        });
    runner.dispatch();
    return id;
  }

  private ExportPlan plan(
      Connection c, TableName table, Request request, char delimiter, Compression compression)
      throws SQLException {
    List<Sql.Column> all = Sql.columns(c, table);
    if (all.isEmpty()) {
      throw Refusal.notFound(
          "there is no table " + table + " (views and other relations cannot be exported)");
    }
    List<Sql.Column> columns = all;
    if (request.columns() != null && !request.columns().isEmpty()) {
      // An empty list is every column, as one left out: generated clients send [] by default.
      columns = pick(table, all, request.columns());
    }
    List<Sql.Column> key = Sql.primaryKey(c, table);
    if (key.isEmpty() && hasChildren(c, table)) {
      // Paged by ctid, such a table would lose rows: the parent's own blocks are all the pages
      // there are (none, if partitioned), and a ctid repeats from one child to the next.
      throw Refusal.invalid(
          "table "
              + table
              + " has no primary key and its rows live in partitions or child tables: they have"
              + " no order to export them in; add a primary key, or export each partition");
    }
    return new ExportPlan(
        table,
        columns,
        key,
        delimiter,
        request.header() == null || request.header(),
        blocksPerPage(c, table),
        compression);
  }

  private static List<Sql.Column> pick(TableName table, List<Sql.Column> all, List<String> names) {
    Map<String, Sql.Column> byName =
        all.stream().collect(Collectors.toMap(Sql.Column::name, Function.identity()));
    List<String> unknown = names.stream().filter(n -> !byName.containsKey(n)).toList();
    if (!unknown.isEmpty()) {
      throw Refusal.invalid(
          "table "
              + table
              + " has no column "
              + unknown
              + "; its columns are "
              + all.stream().map(Sql.Column::name).toList());
    }
    if (new HashSet<>(names).size() != names.size()) {
      throw Refusal.invalid("'columns' names a column twice: " + names);
    }
    List<Sql.Column> picked = new ArrayList<>();
    names.forEach(n -> picked.add(byName.get(n)));
    return picked;
  }

  /** Partitioned, or a parent of inheritance children. */
  private static boolean hasChildren(Connection c, TableName table) throws SQLException {
    return Sql.queryLong(
            c,
            "SELECT count(*) FROM pg_catalog.pg_class k WHERE k.oid = "
                + Sql.literal(table.sql())
                + "::regclass AND (k.relkind = 'p' OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits"
                + " i WHERE i.inhparent = k.oid))",
            0)
        > 0;
  }

  /**
   * Exact when the table is small enough to count quickly, else PostgreSQL's estimate. The count
   * stops after the limit: a table without statistics (never analyzed, as right after a bulk load,
   * or a partitioned table's parent) is not read whole while the request waits, and starts with the
   * planner's estimate instead.
   */
  private long rowCount(Connection c, TableName table) throws SQLException {
    long limit = config.export().exactCountLimit();
    long analyzed =
        Sql.queryLong(
            c,
            "SELECT reltuples::bigint FROM pg_catalog.pg_class WHERE oid = "
                + Sql.literal(table.sql())
                + "::regclass",
            -1);
    if (analyzed > limit) {
      return analyzed;
    }
    long counted =
        Sql.queryLong(
            c,
            "SELECT count(*) FROM (SELECT FROM " + table.sql() + " LIMIT " + (limit + 1) + ") r",
            0);
    return counted <= limit ? counted : Math.max(counted, plannedRows(c, table));
  }

  private static final Pattern PLANNED_ROWS = Pattern.compile(" rows=(\\d+) ");

  /**
   * The planner's row estimate of a whole-table scan (from the table's size without statistics).
   */
  private static long plannedRows(Connection c, TableName table) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet plan = s.executeQuery("EXPLAIN SELECT * FROM " + table.sql())) {
      Matcher rows = plan.next() ? PLANNED_ROWS.matcher(plan.getString(1)) : null;
      return rows != null && rows.find() ? Long.parseLong(rows.group(1)) : 0;
    }
  }

  /** For tables without a primary key: blocks a page reads to hold about a page of rows. */
  private long blocksPerPage(Connection c, TableName table) throws SQLException {
    long rowsPerBlock =
        Sql.queryLong(
            c,
            "SELECT CASE WHEN relpages > 0 AND reltuples > 0 THEN ceil(reltuples / relpages)"
                + " ELSE 100 END FROM pg_catalog.pg_class WHERE oid = "
                + Sql.literal(table.sql())
                + "::regclass",
            100);
    return Math.max(1, config.export().batchRows() / Math.max(1, rowsPerBlock));
  }
}
