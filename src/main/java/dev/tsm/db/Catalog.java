package dev.tsm.db;

import dev.tsm.Config;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The tables clients may reach: those of the configured schemas, never the service's own. */
@ApplicationScoped
public class Catalog {
  private final Pool pool;
  private final Config config;

  Catalog(Pool pool, Config config) {
    this.pool = pool;
    this.config = config;
  }

  /** A table, PostgreSQL's estimate of its rows (-1: never analysed), and its columns in order. */
  public record Table(
      String schema,
      String name,
      long estimatedRows,
      boolean primaryKey,
      List<Sql.Column> columns) {}

  /** Every reachable table, by schema and name, in one query. */
  public Uni<List<Table>> tables() {
    String sql =
        "SELECT n.nspname, k.relname, k.reltuples::bigint AS estimate,"
            + " EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = k.oid"
            + "   AND i.indisprimary) AS pk,"
            + " a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type"
            + " FROM pg_catalog.pg_class k"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
            + " JOIN pg_catalog.pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0"
            + "   AND NOT a.attisdropped"
            + " WHERE k.relkind IN ('r', 'p') AND n.nspname = ANY ($1) AND n.nspname <> 'tsm'"
            + " ORDER BY n.nspname, k.relname, a.attnum";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(config.schemas().toArray(new String[0])))
        .map(
            rows -> {
              Map<String, Table> tables = new LinkedHashMap<>();
              for (Row r : rows) {
                tables
                    .computeIfAbsent(
                        r.getString("nspname") + "." + r.getString("relname"),
                        k ->
                            new Table(
                                r.getString("nspname"),
                                r.getString("relname"),
                                r.getLong("estimate"),
                                r.getBoolean("pk"),
                                new ArrayList<>()))
                    .columns()
                    .add(new Sql.Column(r.getString("attname"), r.getString("type")));
              }
              return new ArrayList<>(tables.values());
            });
  }
}
