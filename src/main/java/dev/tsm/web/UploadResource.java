package dev.tsm.web;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.tus.TusUploads;
import dev.tsm.upload.BlockingBody;
import dev.tsm.upload.UploadSlots;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.OPTIONS;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Resumable uploads, tus 1.0 (core, creation, creation-with-upload, creation-defer-length,
 * termination, checksum, expiration). Each upload feeds one import task, which loads the file while
 * it arrives. The protocol's own headers carry everything; errors are problem+json.
 */
@Path("/uploads")
@Tag(
    name = "Resumable uploads",
    description =
        "tus 1.0 resumable uploads: each feeds an import that loads the file while it arrives")
public class UploadResource {
  static final String VERSION = "1.0.0";
  static final String OFFSET_OCTET_STREAM = "application/offset+octet-stream";
  private static final String EXTENSIONS =
      "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration";
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

  private final TusUploads uploads;
  private final Callers callers;
  private final UploadSlots slots;
  private final Config config;
  private final Idempotency idempotency;

  UploadResource(
      TusUploads uploads,
      Callers callers,
      UploadSlots slots,
      Config config,
      Idempotency idempotency) {
    this.uploads = uploads;
    this.callers = callers;
    this.slots = slots;
    this.config = config;
    this.idempotency = idempotency;
  }

  @OPTIONS
  @PermitAll
  @Operation(
      operationId = "describeUploads",
      summary = "What the resumable upload endpoint supports")
  @APIResponse(
      responseCode = "204",
      description = "The protocol's version, extensions, size limit and checksum algorithms",
      headers = {
        @Header(name = "Tus-Version", schema = @Schema(type = SchemaType.STRING)),
        @Header(name = "Tus-Extension", schema = @Schema(type = SchemaType.STRING)),
        @Header(name = "Tus-Max-Size", schema = @Schema(type = SchemaType.INTEGER)),
        @Header(name = "Tus-Checksum-Algorithm", schema = @Schema(type = SchemaType.STRING))
      })
  public Response options() {
    return Response.noContent()
        .header("Tus-Version", VERSION)
        .header("Tus-Extension", EXTENSIONS)
        .header("Tus-Max-Size", config.importing().maxBodySize().asLongValue())
        .header("Tus-Checksum-Algorithm", "sha1,sha256,sha512,md5")
        .build();
  }

  @POST
  @Operation(
      operationId = "createUpload",
      summary = "Create a resumable upload and the import it feeds",
      description =
          "Upload-Length (or Upload-Defer-Length: 1) and Upload-Metadata, whose Base64 values name"
              + " the import: table (required), mode, key, delimiter, header, onError, maxErrors,"
              + " types, rename (as the parameters of POST /imports), and"
              + " filename (a name ending .gz, or compression gzip, marks a gzip-compressed file;"
              + " its first bytes also tell). A body of type application/offset+octet-stream is"
              + " the file's first bytes (creation-with-upload).")
  @RequestBody(
      required = false,
      content =
          @Content(
              mediaType = OFFSET_OCTET_STREAM,
              schema = @Schema(type = SchemaType.STRING, format = "binary")))
  @APIResponse(
      responseCode = "201",
      description = "Created: Location is the upload, Link (rel=task) the import task it feeds",
      headers = {
        @Header(name = "Location", schema = @Schema(type = SchemaType.STRING)),
        @Header(name = "Link", schema = @Schema(type = SchemaType.STRING)),
        @Header(name = "Upload-Offset", schema = @Schema(type = SchemaType.INTEGER)),
        @Header(name = "Upload-Expires", schema = @Schema(type = SchemaType.STRING))
      })
  @APIResponse(
      responseCode = "400",
      description = "No table in the metadata, a bad option, or no length",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(responseCode = "404", description = "mode=append and the table does not exist")
  @APIResponse(
      responseCode = "409",
      description = "mode=create and the table already exists; or " + Idempotency.IN_PROGRESS_LOWER)
  @APIResponse(responseCode = "412", description = "Tus-Resumable is not 1.0.0")
  @APIResponse(responseCode = "413", description = "Upload-Length is over tsm.import.max-body-size")
  @APIResponse(responseCode = "422", description = Idempotency.OTHER_REQUEST)
  @Parameter(
      in = ParameterIn.HEADER,
      name = Idempotency.HEADER,
      description =
          Idempotency.DESCRIPTION
              + " A repeat answers 201 with the first upload's Location and Link; bytes it brings"
              + " are not taken (HEAD the upload for its offset)",
      example = Idempotency.EXAMPLE,
      schema = @Schema(type = SchemaType.STRING, minLength = 1, maxLength = 255))
  public Uni<Response> create(@Context HttpServerRequest http, @Context RoutingContext routing) {
    http.pause();
    checkVersion(http);
    Caller caller = callers.current();
    String key = Idempotency.key(http);
    TusUploads.Creation creation =
        new TusUploads.Creation(
            number(http, "Upload-Length"),
            "1".equals(http.getHeader("Upload-Defer-Length")),
            http.getHeader("Upload-Metadata"));
    String fingerprint =
        key == null
            ? null
            : Idempotency.fingerprint(
                http, null, "Upload-Length", "Upload-Defer-Length", "Upload-Metadata");
    boolean withBytes = OFFSET_OCTET_STREAM.equalsIgnoreCase(contentType(http));
    io.vertx.core.Context context = Vertx.currentContext();
    return blocking(
        () -> {
          AtomicReference<TusUploads.State> made = new AtomicReference<>();
          Idempotency.Outcome outcome =
              idempotency.once(
                  caller,
                  key,
                  fingerprint,
                  () -> {
                    made.set(uploads.create(caller, creation));
                    return Idempotency.Outcome.created(
                        made.get().taskId(), "/uploads/" + made.get().id());
                  });
          if (outcome.repeat()) {
            UUID first = Ids.parse(outcome.location().substring("/uploads/".length()));
            Response answer =
                described(Response.status(201), uploads.get(caller, first))
                    .header("Location", outcome.location())
                    .build();
            return Idempotency.unread(answer, routing);
          }
          TusUploads.State created = made.get();
          TusUploads.State now = created;
          if (withBytes) {
            now = appendBody(caller, created.id(), http, context, 0L);
          } else {
            context.runOnContext(v -> http.resume()); // an empty body, read and dropped
          }
          return described(Response.status(201), now)
              .header("Location", "/uploads/" + created.id())
              .build();
        });
  }

  @HEAD
  @Path("{id}")
  @Operation(operationId = "getUploadOffset", summary = "How many bytes of an upload arrived")
  @APIResponse(
      responseCode = "200",
      description = "Upload-Offset is where the next PATCH starts",
      headers = {
        @Header(name = "Upload-Offset", schema = @Schema(type = SchemaType.INTEGER)),
        @Header(name = "Upload-Length", schema = @Schema(type = SchemaType.INTEGER)),
        @Header(name = "Upload-Defer-Length", schema = @Schema(type = SchemaType.INTEGER)),
        @Header(name = "Upload-Metadata", schema = @Schema(type = SchemaType.STRING)),
        @Header(name = "Upload-Expires", schema = @Schema(type = SchemaType.STRING)),
        @Header(name = "Link", schema = @Schema(type = SchemaType.STRING))
      })
  @APIResponse(responseCode = "404", description = "No such upload (or not the caller's)")
  @APIResponse(responseCode = "410", description = "The upload was terminated or expired")
  public Uni<Response> head(@PathParam("id") String id, @Context HttpServerRequest http) {
    checkVersion(http);
    Caller caller = callers.current();
    UUID upload = Ids.parse(id, "upload");
    return blocking(
        () -> {
          TusUploads.State state = uploads.get(caller, upload);
          Response.ResponseBuilder ok = described(Response.ok(), state);
          if (state.metadata() != null) {
            ok.header("Upload-Metadata", state.metadata());
          }
          return ok.header("Cache-Control", "no-store").build();
        });
  }

  @PATCH
  @Path("{id}")
  @Operation(
      operationId = "appendToUpload",
      summary = "Append bytes to an upload at its offset",
      description =
          "Upload-Offset must equal the upload's offset. Bytes are kept as they arrive: a request"
              + " that breaks off keeps what came, unless it carries Upload-Checksum (then only"
              + " the whole is kept, if it matches). Upload-Length may be declared here if it was"
              + " deferred. The import loads the bytes while they arrive.")
  @RequestBody(
      content =
          @Content(
              mediaType = OFFSET_OCTET_STREAM,
              schema = @Schema(type = SchemaType.STRING, format = "binary")))
  @APIResponse(
      responseCode = "204",
      description = "Appended",
      headers = {
        @Header(name = "Upload-Offset", schema = @Schema(type = SchemaType.INTEGER)),
        @Header(name = "Upload-Expires", schema = @Schema(type = SchemaType.STRING))
      })
  @APIResponse(
      responseCode = "400",
      description = "No Upload-Offset, a bad checksum header, or bytes that cannot be imported")
  @APIResponse(responseCode = "404", description = "No such upload (or not the caller's)")
  @APIResponse(
      responseCode = "409",
      description = "Upload-Offset is not the upload's offset, or the upload is complete")
  @APIResponse(responseCode = "410", description = "The upload was terminated or expired")
  @APIResponse(responseCode = "412", description = "Tus-Resumable is not 1.0.0")
  @APIResponse(
      responseCode = "413",
      description = "More bytes than Upload-Length declares, or over tsm.import.max-body-size")
  @APIResponse(responseCode = "415", description = "Content-Type is not " + OFFSET_OCTET_STREAM)
  @APIResponse(
      responseCode = "423",
      description = "Another request is writing to this upload right now")
  @APIResponse(
      responseCode = "460",
      description = "The bytes do not match Upload-Checksum: none were kept")
  @APIResponse(
      responseCode = "503",
      description = "This instance receives as many bodies as it may")
  public Uni<Response> append(@PathParam("id") String id, @Context HttpServerRequest http) {
    http.pause();
    checkVersion(http);
    if (!OFFSET_OCTET_STREAM.equalsIgnoreCase(contentType(http))) {
      throw new jakarta.ws.rs.NotSupportedException(
          "a PATCH body must be of type " + OFFSET_OCTET_STREAM);
    }
    Long offset = number(http, "Upload-Offset");
    if (offset == null) {
      throw Refusal.invalid("Upload-Offset is missing: say where these bytes start");
    }
    Caller caller = callers.current();
    UUID upload = Ids.parse(id, "upload");
    io.vertx.core.Context context = Vertx.currentContext();
    return blocking(
        () ->
            described(Response.noContent(), appendBody(caller, upload, http, context, offset))
                .build());
  }

  /**
   * Clients that cannot send PATCH or DELETE (some HTTP libraries) send POST with {@code
   * X-HTTP-Method-Override}, as the protocol allows.
   */
  @POST
  @Path("{id}")
  @Operation(
      operationId = "overrideUploadMethod",
      summary = "PATCH or DELETE an upload, for clients that can only POST",
      description = "X-HTTP-Method-Override: PATCH (or DELETE); answered as that method")
  @RequestBody(
      content =
          @Content(
              mediaType = OFFSET_OCTET_STREAM,
              schema = @Schema(type = SchemaType.STRING, format = "binary")))
  @APIResponse(responseCode = "204", description = "As PATCH or DELETE")
  @APIResponse(responseCode = "405", description = "No X-HTTP-Method-Override of PATCH or DELETE")
  public Uni<Response> overridden(
      @PathParam("id") String id,
      @Parameter(description = "PATCH or DELETE") @HeaderParam("X-HTTP-Method-Override")
          String method,
      @Context HttpServerRequest http) {
    if ("PATCH".equalsIgnoreCase(method)) {
      return append(id, http);
    }
    if ("DELETE".equalsIgnoreCase(method)) {
      return terminate(id, http);
    }
    throw new jakarta.ws.rs.NotAllowedException("HEAD", new String[] {"PATCH", "DELETE"});
  }

  @DELETE
  @Path("{id}")
  @Operation(
      operationId = "terminateUpload",
      summary = "Terminate an upload and the import it feeds",
      description =
          "The import is terminated (the database and the files as before it), the upload's"
              + " bytes deleted; the upload answers 410 from then on. A completed import stays.")
  @APIResponse(responseCode = "204", description = "Terminated")
  @APIResponse(responseCode = "404", description = "No such upload (or not the caller's)")
  @APIResponse(responseCode = "410", description = "Already terminated or expired")
  public Uni<Response> terminate(@PathParam("id") String id, @Context HttpServerRequest http) {
    checkVersion(http);
    Caller caller = callers.current();
    UUID upload = Ids.parse(id, "upload");
    return blocking(
        () -> {
          uploads.terminate(caller, upload);
          return Response.noContent().build();
        });
  }

  /** Every answer under /uploads names the protocol version, errors included. */
  @ServerResponseFilter
  public void tusVersion(ContainerRequestContext request, ContainerResponseContext response) {
    if (request.getUriInfo().getPath().startsWith("/uploads")) {
      response.getHeaders().putSingle("Tus-Resumable", VERSION);
      if (response.getStatus() == 412) {
        response.getHeaders().putSingle("Tus-Version", VERSION);
      }
    }
  }

  private TusUploads.State appendBody(
      Caller caller,
      UUID upload,
      HttpServerRequest http,
      io.vertx.core.Context context,
      long offset) {
    UploadSlots.Slot slot = slots.take();
    try {
      // Told to send its body (100 Continue) only once the upload takes it: a request refused at
      // its offset or lock is answered before it sends anything.
      Supplier<BlockingBody> body =
          () -> {
            RawBody.sendContinue(http);
            return BlockingBody.open(http, context, config.importing().idleTimeout());
          };
      long declared = http.headers().contains("Content-Length") ? lengthOf(http) : -1;
      return uploads.append(
          caller,
          upload,
          new TusUploads.Append(
              offset, number(http, "Upload-Length"), declared, http.getHeader("Upload-Checksum")),
          body);
    } finally {
      slot.release();
    }
  }

  private static long lengthOf(HttpServerRequest http) {
    Long length = number(http, "Content-Length");
    return length == null ? -1 : length;
  }

  private static Response.ResponseBuilder described(
      Response.ResponseBuilder builder, TusUploads.State state) {
    builder.header("Upload-Offset", state.offset());
    if (state.length() != null) {
      builder.header("Upload-Length", state.length());
    } else {
      builder.header("Upload-Defer-Length", 1);
    }
    if (state.expiresAt() != null) {
      builder.header("Upload-Expires", HTTP_DATE.format(state.expiresAt()));
    }
    return builder.header("Link", "</tasks/" + state.taskId() + ">; rel=\"task\"");
  }

  private static void checkVersion(HttpServerRequest http) {
    String version = http.getHeader("Tus-Resumable");
    if (!VERSION.equals(version)) {
      throw Refusal.unsupportedVersion(
          version == null
              ? "Tus-Resumable is missing: this endpoint speaks tus " + VERSION
              : "Tus-Resumable is " + version + ": this endpoint speaks tus " + VERSION);
    }
  }

  private static Long number(HttpServerRequest http, String header) {
    String value = http.getHeader(header);
    if (value == null) {
      return null;
    }
    try {
      long n = Long.parseLong(value.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw Refusal.invalid(header + " must be a non-negative whole number of bytes");
    }
  }

  private static String contentType(HttpServerRequest http) {
    String type = http.getHeader("Content-Type");
    return type == null ? null : type.split(";")[0].trim();
  }

  /**
   * On a worker, and to its end even when the client goes away (its answer cancelled): a request
   * that broke off still commits the bytes that came, and its outcome is not reported as dropped.
   */
  private static <T> Uni<T> blocking(Supplier<T> work) {
    Uni<T> outcome =
        Uni.createFrom()
            .item(work)
            .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
            .memoize()
            .indefinitely();
    outcome.subscribe().with(done -> {}, failed -> {});
    return outcome;
  }
}
