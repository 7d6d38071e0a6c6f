package dev.tsm.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tsm.access.Caller;
import dev.tsm.exporting.ExportService;
import dev.tsm.task.TaskService;
import io.smallrye.common.annotation.Blocking;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Starts exports: a table into a CSV file the client downloads from /tasks/{id}/file. */
@Path("/exports")
@Tag(name = "Exports", description = "Write PostgreSQL tables to downloadable CSV files")
@Produces(MediaType.APPLICATION_JSON)
public class ExportResource {
  static final String TOO_LARGE =
      "The JSON body is larger than tsm.http.max-json-body-size (refused before it is read when"
          + " Content-Length says so, else where it passes the limit)";
  static final String REQUEST_EXAMPLE =
      "{\"table\": \"sales\", \"columns\": [\"id\", \"amount\"], \"delimiter\": \",\","
          + " \"header\": true}";
  private static final String GZIP_EXAMPLE = "{\"table\": \"sales\", \"compression\": \"gzip\"}";

  private final ExportService exports;
  private final TaskService tasks;
  private final Callers callers;
  private final Idempotency idempotency;
  private final ObjectMapper json;

  ExportResource(
      ExportService exports,
      TaskService tasks,
      Callers callers,
      Idempotency idempotency,
      ObjectMapper json) {
    this.exports = exports;
    this.tasks = tasks;
    this.callers = callers;
    this.idempotency = idempotency;
    this.json = json;
  }

  @POST
  @Blocking
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      operationId = "startExport",
      summary = "Export a table to a CSV file",
      description =
          "Rows are written in primary-key order (physical order, ctid, for a table without"
              + " one), in PostgreSQL's CSV dialect: the file is byte-identical to psql's"
              + " \\copy (SELECT columns FROM table ORDER BY key) TO STDOUT WITH (FORMAT csv,"
              + " HEADER). Download it from /tasks/{id}/file once COMPLETED. With compression"
              + " gzip, the file is that CSV gzip-compressed (one gzip member a page, which every"
              + " gzip reader reads as one stream), downloaded as <table>.csv.gz.")
  @RequestBody(
      required = true,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = ExportService.Request.class),
              examples = {
                @ExampleObject(name = "some columns", value = REQUEST_EXAMPLE),
                @ExampleObject(name = "gzip-compressed", value = GZIP_EXAMPLE)
              }))
  @APIResponse(
      responseCode = "202",
      description = "Task created; follow Location",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = TaskView.class)))
  @APIResponse(
      responseCode = "400",
      description =
          "Bad table name (SQL, a schema that is not allowed, the service's own tables), unknown"
              + " columns, more than 1600 columns, bad delimiter, compression other than none or"
              + " gzip, a callback that is not an absolute http or https URL")
  @APIResponse(responseCode = "404", description = "No such table")
  @APIResponse(
      responseCode = "409",
      description = Idempotency.IN_PROGRESS_UPPER,
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(responseCode = "413", description = TOO_LARGE)
  @APIResponse(responseCode = "422", description = Idempotency.OTHER_REQUEST)
  @Parameter(
      in = ParameterIn.HEADER,
      name = Idempotency.HEADER,
      description = Idempotency.DESCRIPTION,
      example = Idempotency.EXAMPLE,
      schema = @Schema(type = SchemaType.STRING, minLength = 1, maxLength = 255))
  public Response start(ExportService.Request request, @Context HttpServerRequest http) {
    Caller caller = callers.current();
    String key = Idempotency.key(http);
    String fingerprint = key == null ? null : Idempotency.fingerprint(http, canonical(request));
    UUID id =
        idempotency
            .once(
                caller,
                key,
                fingerprint,
                () -> {
                  UUID created = exports.create(caller, request);
                  return Idempotency.Outcome.created(created, "/tasks/" + created);
                })
            .taskId();
    TaskView view = TaskView.of(tasks.get(caller, id).await().atMost(Duration.ofSeconds(30)));
    return Response.accepted(view).location(URI.create("/tasks/" + id)).build();
  }

  /** The request as JSON of one form: its fields in a fixed order, no spacing. */
  private String canonical(ExportService.Request request) {
    try {
      return json.writeValueAsString(request);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
