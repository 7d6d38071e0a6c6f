package dev.tsm.web;

import dev.tsm.access.Caller;
import dev.tsm.access.TableRights;
import dev.tsm.db.Catalog;
import dev.tsm.db.TableName;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The tables a client may export: those of the configured schemas, never the service's own. */
@Path("/tables")
@Tag(name = "Exports")
@Produces(MediaType.APPLICATION_JSON)
public class TableResource {
  private final Catalog catalog;
  private final TableRights rights;
  private final Callers callers;

  TableResource(Catalog catalog, TableRights rights, Callers callers) {
    this.catalog = catalog;
    this.rights = rights;
    this.callers = callers;
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
      summary = "Tables the caller may import into or export",
      description =
          "Tables of the configured schemas (tsm.schemas) that the caller's roles grant it to"
              + " import into or export (tsm.security.grants), with columns in order.")
  @APIResponse(responseCode = "200", description = "The tables, by schema and name")
  public Uni<List<TableView>> list() {
    Caller caller = callers.current();
    return catalog
        .tables()
        .map(
            tables ->
                tables.stream()
                    .filter(t -> usable(caller, new TableName(t.schema(), t.name())))
                    .map(TableResource::view)
                    .toList());
  }

  private boolean usable(Caller caller, TableName table) {
    return rights.may(caller, TableRights.Use.EXPORT, table)
        || rights.may(caller, TableRights.Use.IMPORT, table);
  }

  private static TableView view(Catalog.Table t) {
    return new TableView(
        t.schema(),
        t.name(),
        t.estimatedRows(),
        t.primaryKey(),
        t.columns().stream().map(c -> new ColumnView(c.name(), c.type())).toList());
  }
}
