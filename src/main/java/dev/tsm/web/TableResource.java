package dev.tsm.web;

import dev.tsm.Config;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The tables a client may export: those of the configured schemas, never the service's own. */
@Path("/tables")
@Tag(name = "Exports")
@Produces(MediaType.APPLICATION_JSON)
public class TableResource {
  private final Pool pool;
  private final Config config;

  TableResource(Pool pool, Config config) {
    this.pool = pool;
    this.config = config;
  }

  /** A table, its estimated row count and its columns. */
  @Schema(
      name = "Table",
      example =
          "{\"schema\": \"public\", \"name\": \"sales\", \"estimatedRows\": 1000000,"
              + " \"primaryKey\": true, \"columns\": [{\"name\": \"id\", \"type\": \"integer\"},"
              + " {\"name\": \"amount\", \"type\": \"numeric\"}]}")
  public record TableView(
      @Schema(example = "public") String schema,
      @Schema(example = "sales") String name,
      @Schema(description = "PostgreSQL's estimate (-1: never analysed)") long estimatedRows,
      @Schema(description = "Whether rows are exported in primary-key order") boolean primaryKey,
      List<ColumnView> columns) {}

  @Schema(name = "Column")
  public record ColumnView(
      @Schema(example = "amount") String name, @Schema(example = "numeric") String type) {}

  @GET
  @Operation(
      operationId = "listTables",
      summary = "Tables that can be exported",
      description = "Tables of the configured schemas (tsm.schemas), with columns in order.")
  @APIResponse(responseCode = "200", description = "The tables, by schema and name")
  public Uni<List<TableView>> list() {
    String sql =
        "SELECT n.nspname, k.relname, k.reltuples::bigint AS estimate,"
            + " EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = k.oid AND i.indisprimary) AS pk,"
            + " a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type"
            + " FROM pg_catalog.pg_class k"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
            + " JOIN pg_catalog.pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0 AND NOT a.attisdropped"
            + " WHERE k.relkind IN ('r', 'p') AND n.nspname = ANY ($1) AND n.nspname <> 'tsm'"
            + " ORDER BY n.nspname, k.relname, a.attnum";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(config.schemas().toArray(new String[0])))
        .map(
            rows -> {
              Map<String, TableView> tables = new LinkedHashMap<>();
              for (Row r : rows) {
                String key = r.getString("nspname") + "." + r.getString("relname");
                tables
                    .computeIfAbsent(
                        key,
                        k ->
                            new TableView(
                                r.getString("nspname"),
                                r.getString("relname"),
                                r.getLong("estimate"),
                                r.getBoolean("pk"),
                                new ArrayList<>()))
                    .columns()
                    .add(new ColumnView(r.getString("attname"), r.getString("type")));
              }
              return new ArrayList<>(tables.values());
            });
  }
}
