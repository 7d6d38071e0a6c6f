package dev.tsm.web;

import dev.tsm.Config;
import dev.tsm.access.Caller;
import dev.tsm.importing.ImportPreview;
import dev.tsm.importing.ImportService;
import dev.tsm.task.TaskService;
import dev.tsm.upload.Receiver;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.UUID;
import java.util.function.Supplier;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Starts imports: a CSV body (raw or multipart) into a table. */
@Path("/imports")
@Tag(name = "Imports", description = "Load CSV files into PostgreSQL tables")
@Produces(MediaType.APPLICATION_JSON)
public class ImportResource {
  private static final String BAD_TABLE_EXAMPLE =
      "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"'x; drop"
          + " table y' is not a valid table name: use letters, digits and underscores (at most 63,"
          + " not starting with a digit), optionally prefixed by a schema and a dot\","
          + "\"instance\":\"/imports\"}";
  private static final String EXISTS_EXAMPLE =
      "{\"type\":\"about:blank\",\"title\":\"Conflict\",\"status\":409,\"detail\":\"table"
          + " public.sales already exists; use mode=append to add rows to it\","
          + "\"instance\":\"/imports\"}";
  private static final String DESCRIPTION =
      "The body is text/csv (streamed to disk, never held in memory) or multipart/form-data with"
          + " the file in a part named 'file' (for browsers and form posts; streamed the same way,"
          + " under the same limits). Either may be gzip-compressed: a raw body with"
          + " Content-Encoding: gzip, a part whose file name ends in .gz, or any body starting with"
          + " the gzip magic bytes (1f 8b); it is decompressed as it arrives and the task loads the"
          + " CSV it decompresses to, under the same size limit (bytesTotal, unknown while a"
          + " followed gzip body arrives, is the decompressed size). The header and first"
          + " rows are checked at once, then the task is queued. A raw body of declared length"
          + " (Content-Length) over 1 MiB starts loading while the rest still arrives; the answer"
          + " comes once the whole body is received. Column types are inferred from a"
          + " sample (integer, bigint, numeric, boolean, date, timestamp, else text); a value with"
          + " a leading zero stays text. The target table appears only when the import completes."
          + " An answer given before the body was read closes the connection; a client sending"
          + " Expect: 100-continue is told to go on only once its upload is admitted.";
  static final String BODY =
      "The CSV file (UTF-8, with or without BOM; LF or CRLF), or the same file gzip-compressed: as"
          + " multipart/form-data with the file in the part 'file' (other file parts are refused; a"
          + " .gz file name or the gzip magic bytes mark a compressed one), or as the raw body,"
          + " typed text/csv, text/plain, application/octet-stream or not at all (all alike; with"
          + " Content-Encoding: gzip or the gzip magic bytes when compressed)";
  private static final String CSV_EXAMPLE = "id,name,amount\n1,Ada,12.50\n2,\"Lovelace, A.\",7\n";
  static final String IDLE =
      "The client sent no body bytes for tsm.import.idle-timeout: the upload is dropped (a task"
          + " already loading it ends TERMINATED with the reason) and the connection closed";
  static final String TOO_LARGE =
      "The file is larger than tsm.import.max-body-size (as sent, or decompressed when gzip: a"
          + " gzip bomb is stopped once it passes the limit), or the request than"
          + " quarkus.http.limits.max-body-size; a declared Content-Length over the limit is"
          + " refused before the body is read";
  static final String BUSY =
      "This instance already receives tsm.import.max-concurrent-uploads bodies (answered at once,"
          + " the body unread; Retry-After says when to try again), or the database is not"
          + " available";
  static final String NO_SPACE =
      "Staging the body would leave less than tsm.storage.min-free-space free on the volume, or"
          + " pass tsm.storage.max-staged-bytes (staged uploads of every instance plus the bodies"
          + " arriving); a declared Content-Length that cannot fit is refused before the body is"
          + " read";

  private final ImportService imports;
  private final TaskService tasks;
  private final Config config;
  private final Callers callers;
  private final Idempotency idempotency;

  ImportResource(
      ImportService imports,
      TaskService tasks,
      Config config,
      Callers callers,
      Idempotency idempotency) {
    this.imports = imports;
    this.tasks = tasks;
    this.config = config;
    this.callers = callers;
    this.idempotency = idempotency;
  }

  @POST
  @Consumes({"text/csv", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  @Operation(
      operationId = "startImport",
      summary = "Import a CSV body into a table",
      description = DESCRIPTION)
  @RequestBody(
      description = BODY,
      content =
          @Content(
              mediaType = "text/csv",
              examples = @ExampleObject(name = "csv", value = CSV_EXAMPLE)))
  @APIResponse(
      responseCode = "202",
      description = "Task created; follow Location",
      headers =
          @Header(
              name = "Location",
              description = "/tasks/{id}",
              schema = @Schema(type = SchemaType.STRING)),
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = TaskView.class)))
  @APIResponse(
      responseCode = "400",
      description =
          "Bad table name or option, empty body, header only, bad header (invalid UTF-8, too many"
              + " columns), unknown columns in append mode; a gzip body that is truncated or"
              + " corrupt (bad CRC, bad deflate data, trailing garbage); a Content-Encoding other"
              + " than gzip (any, on a multipart body). A large gzip body found bad after its task"
              + " started loading also ends that task TERMINATED with the reason",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class),
              examples = @ExampleObject(name = "table name with SQL", value = BAD_TABLE_EXAMPLE)))
  @APIResponse(responseCode = "404", description = "mode=append and the table does not exist")
  @APIResponse(
      responseCode = "409",
      description = "mode=create and the table already exists; or " + Idempotency.IN_PROGRESS_LOWER,
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class),
              examples = @ExampleObject(name = "table exists", value = EXISTS_EXAMPLE)))
  @APIResponse(responseCode = "408", description = IDLE)
  @APIResponse(responseCode = "422", description = Idempotency.OTHER_REQUEST)
  @APIResponse(responseCode = "413", description = TOO_LARGE)
  @APIResponse(
      responseCode = "503",
      description = BUSY,
      headers =
          @Header(
              name = "Retry-After",
              description = "Seconds to wait, when the upload limit was reached",
              schema = @Schema(type = SchemaType.INTEGER)))
  @APIResponse(responseCode = "507", description = NO_SPACE)
  @Parameter(
      in = ParameterIn.HEADER,
      name = Idempotency.HEADER,
      description = Idempotency.DESCRIPTION,
      example = Idempotency.EXAMPLE,
      schema = @Schema(type = SchemaType.STRING, minLength = 1, maxLength = 255))
  public Uni<Response> importRaw(
      @BeanParam ImportParams params,
      @Parameter(hidden = true) @HeaderParam("Content-Length") Long contentLength,
      @Parameter(
              description =
                  "gzip (or x-gzip): the body is the CSV gzip-compressed; a body starting with the"
                      + " gzip magic bytes is decompressed without it. No other coding is taken")
          @HeaderParam("Content-Encoding")
          String contentEncoding,
      @Context HttpServerRequest http,
      @Context RoutingContext routing) {
    Caller caller = callers.current();
    String key = Idempotency.key(http);
    ImportService.Request request = params.request(caller);
    RawBody body = rawBody(http, contentLength, contentEncoding);
    return start(
        caller,
        key,
        http,
        routing,
        () -> imports.create(request, body),
        "Content-Type",
        "Content-Length",
        "Content-Encoding");
  }

  /** A raw body; one declaring a length over the limit is refused before it is read. */
  private RawBody rawBody(HttpServerRequest http, Long contentLength, String contentEncoding) {
    boolean gzip = ContentEncoding.gzip(contentEncoding);
    long max = config.importing().maxBodySize().asLongValue();
    if (contentLength != null && contentLength > max) {
      throw Receiver.tooLarge(max);
    }
    return new RawBody(http, contentLength, gzip);
  }

  /**
   * The file part is streamed to disk as it arrives, like a raw body (the method takes no form
   * parameter, so the framework leaves the body alone): the same limits hold.
   */
  @POST
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  @APIResponse(
      responseCode = "202",
      description = "Task created; follow Location",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = TaskView.class)))
  @RequestBody(
      description = BODY,
      content =
          @Content(
              mediaType = MediaType.MULTIPART_FORM_DATA,
              schema = @Schema(implementation = MultipartBody.class)))
  @Parameter(
      in = ParameterIn.HEADER,
      name = Idempotency.HEADER,
      description = Idempotency.DESCRIPTION,
      example = Idempotency.EXAMPLE,
      schema = @Schema(type = SchemaType.STRING, minLength = 1, maxLength = 255))
  public Uni<Response> importMultipart(
      @BeanParam ImportParams params,
      @Parameter(hidden = true) @HeaderParam("Content-Length") Long contentLength,
      @Parameter(hidden = true) @HeaderParam("Content-Encoding") String contentEncoding,
      @Context HttpServerRequest http,
      @Context RoutingContext routing) {
    Caller caller = callers.current();
    String key = Idempotency.key(http);
    ImportService.Request request = params.request(caller);
    ContentEncoding.checkMultipart(contentEncoding);
    // Not Content-Length: a client may pick a boundary of another length each time it sends.
    return start(
        caller,
        key,
        http,
        routing,
        () -> imports.create(request, new MultipartFile(http, contentLength)),
        "Content-Type");
  }

  private static final String PREVIEW_DESCRIPTION =
      "What POST /imports would do with the same parameters and body, with nothing written to any"
          + " table and no task made: the header, each column's name and type with the reason"
          + " (inferred from the sample, chosen by types=, or an existing table's), the first"
          + " rows as they would be loaded (NULL as null), and the bad rows of the sample, each"
          + " with its line and reason (a record that cannot be read, or a value its column's"
          + " type does not take). The body is staged under the same limits as an import's and"
          + " deleted once sampled; a prefix of a file (cut after a newline) previews its start."
          + " The table is optional here: without it the columns are those of a new table; with"
          + " it the import is checked as POST /imports checks it (rights, mode, target,"
          + " columns).";
  private static final String PREVIEW_EXAMPLE =
      "{\"header\":[\"Zip Code\",\"amount\",\"day\"],\"columns\":[{\"name\":\"zip\","
          + "\"header\":\"Zip Code\",\"type\":\"text\",\"inferred\":\"text\",\"reason\":"
          + "\"text: leading zeros in 31 of 1,000 sampled values (e.g. '01001' on line 2): codes,"
          + " not numbers\",\"sampled\":1000,\"nulls\":0},{\"name\":\"amount\",\"header\":"
          + "\"amount\",\"type\":\"numeric\",\"inferred\":\"numeric\",\"reason\":\"numeric:"
          + " all 998 sampled values are numbers, 640 with a fraction, an exponent or beyond bigint"
          + " range (e.g. '12.50' on line 2)\",\"sampled\":998,\"nulls\":2},{\"name\":\"day\","
          + "\"header\":\"day\",\"type\":\"date\",\"inferred\":\"date\",\"reason\":\"date:"
          + " all 1,000 sampled values are dates (YYYY-MM-DD)\",\"sampled\":1000,\"nulls\":0}],"
          + "\"rows\":[[\"01001\",\"12.50\",\"2024-03-01\"],[\"94103\",null,\"2024-03-02\"]],"
          + "\"problems\":[{\"line\":17,\"reason\":\"expected 3 fields, found 2\"}],"
          + "\"sampledRows\":1001,\"dataOffset\":20}";

  @POST
  @Path("/preview")
  @Consumes({"text/csv", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  @Operation(
      operationId = "previewImport",
      summary = "Preview the import of a CSV body: columns, types and why, first rows, problems",
      description = PREVIEW_DESCRIPTION)
  @RequestBody(
      description = "The start of the file will do. " + BODY,
      content =
          @Content(
              mediaType = "text/csv",
              examples = @ExampleObject(name = "csv", value = CSV_EXAMPLE)))
  @APIResponse(
      responseCode = "200",
      description = "The preview; nothing was written",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = ImportPreview.class),
              examples = @ExampleObject(name = "preview", value = PREVIEW_EXAMPLE)))
  @APIResponse(
      responseCode = "400",
      description =
          "Bad option (an unknown type, types= or rename= naming a column not in the file),"
              + " empty body, header only, bad header")
  @APIResponse(responseCode = "404", description = "A table named, mode=append, and it is missing")
  @APIResponse(responseCode = "409", description = "A table named, mode=create, and it exists")
  @APIResponse(responseCode = "408", description = IDLE)
  @APIResponse(responseCode = "413", description = TOO_LARGE)
  @APIResponse(responseCode = "503", description = BUSY)
  @APIResponse(responseCode = "507", description = NO_SPACE)
  public Uni<ImportPreview> previewRaw(
      @BeanParam ImportParams params,
      @Parameter(hidden = true) @HeaderParam("Content-Length") Long contentLength,
      @Parameter(description = "gzip (or x-gzip): the body is gzip-compressed")
          @HeaderParam("Content-Encoding")
          String contentEncoding,
      @Context HttpServerRequest http) {
    ImportService.Request request = params.request(callers.current());
    return imports.preview(request, rawBody(http, contentLength, contentEncoding));
  }

  /** The preview of a multipart body: the file in a part named 'file'. */
  @POST
  @Path("/preview")
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  @APIResponse(
      responseCode = "200",
      description = "The preview; nothing was written",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = ImportPreview.class)))
  @RequestBody(
      description = "The start of the file will do. " + BODY,
      content =
          @Content(
              mediaType = MediaType.MULTIPART_FORM_DATA,
              schema = @Schema(implementation = MultipartBody.class)))
  public Uni<ImportPreview> previewMultipart(
      @BeanParam ImportParams params,
      @Parameter(hidden = true) @HeaderParam("Content-Length") Long contentLength,
      @Parameter(hidden = true) @HeaderParam("Content-Encoding") String contentEncoding,
      @Context HttpServerRequest http) {
    ImportService.Request request = params.request(callers.current());
    ContentEncoding.checkMultipart(contentEncoding);
    return imports.preview(request, new MultipartFile(http, contentLength));
  }

  /** The shape of the multipart body, for the API description. */
  @Schema(name = "ImportMultipartBody", requiredProperties = "file")
  public static class MultipartBody {
    @Schema(
        type = SchemaType.STRING,
        format = "binary",
        description = "The CSV file, or the CSV file gzip-compressed")
    public String file;
  }

  /**
   * Creates the import; with an Idempotency-Key, only if the key is new: a repeat is answered the
   * first request's task, its body left unread.
   */
  private Uni<Response> start(
      Caller caller,
      String key,
      HttpServerRequest http,
      RoutingContext routing,
      Supplier<Uni<UUID>> create,
      String... describingHeaders) {
    if (key == null) {
      return create.get().flatMap(id -> accepted(caller, id));
    }
    http.pause(); // nothing of the body is read until the key is claimed
    String fingerprint = Idempotency.fingerprint(http, null, describingHeaders);
    return idempotency.once(
        caller,
        key,
        fingerprint,
        create,
        id -> accepted(caller, id),
        id -> accepted(caller, id).map(answer -> Idempotency.unread(answer, routing)));
  }

  private Uni<Response> accepted(Caller caller, UUID id) {
    return tasks
        .get(caller, id)
        .map(
            task ->
                Response.accepted(TaskView.of(task))
                    .location(URI.create("/tasks/" + task.id()))
                    .build());
  }
}
