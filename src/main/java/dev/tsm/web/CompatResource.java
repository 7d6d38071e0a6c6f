package dev.tsm.web;

import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.exporting.ExportService;
import dev.tsm.task.Task;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.UUID;
import java.util.function.BiFunction;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The ten endpoints of the service this one replaces, kept for its clients. Each acts on {@code
 * ?taskId=} or, without it, on the newest task of its kind; progress answers the task.
 */
@Path("/")
@Tag(
    name = "Compatibility",
    description =
        "The original /upload/* and /download/* endpoints: thin aliases of /imports, /exports and"
            + " /tasks/{id}/*, acting on ?taskId= or the newest task of the kind")
@Produces(MediaType.APPLICATION_JSON)
public class CompatResource {
  private static final String TASK_ID_DOC =
      "Task id (UUID); without it, the newest task of this kind";

  private final ImportResource imports;
  private final ExportResource exports;
  private final TaskService tasks;
  private final Callers callers;

  CompatResource(
      ImportResource imports, ExportResource exports, TaskService tasks, Callers callers) {
    this.imports = imports;
    this.exports = exports;
    this.tasks = tasks;
    this.callers = callers;
  }

  @POST
  @Path("upload/start")
  @Consumes({"text/csv", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  @Operation(operationId = "uploadStart", summary = "Start an import (as POST /imports)")
  @RequestBody(description = ImportResource.BODY, content = @Content(mediaType = "text/csv"))
  @APIResponse(
      responseCode = "202",
      description = "Task created",
      content = @Content(schema = @Schema(implementation = TaskView.class)))
  @APIResponse(responseCode = "400", description = "As POST /imports")
  @APIResponse(responseCode = "408", description = ImportResource.IDLE)
  @APIResponse(responseCode = "413", description = ImportResource.TOO_LARGE)
  @APIResponse(
      responseCode = "503",
      description = ImportResource.BUSY,
      headers =
          @Header(
              name = "Retry-After",
              description = "Seconds to wait, when the upload limit was reached",
              schema = @Schema(type = SchemaType.INTEGER)))
  @APIResponse(responseCode = "507", description = ImportResource.NO_SPACE)
  public Uni<Response> uploadStart(
      @BeanParam ImportParams params,
      @Parameter(hidden = true) @HeaderParam("Content-Length") Long contentLength,
      @Parameter(hidden = true) @HeaderParam("Content-Encoding") String contentEncoding,
      @Context HttpServerRequest http,
      @Context RoutingContext routing) {
    return imports.importRaw(params, contentLength, contentEncoding, http, routing);
  }

  @POST
  @Path("upload/start")
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  @RequestBody(
      description = ImportResource.BODY,
      content =
          @Content(
              mediaType = MediaType.MULTIPART_FORM_DATA,
              schema = @Schema(implementation = ImportResource.MultipartBody.class)))
  @APIResponse(
      responseCode = "202",
      description = "Task created",
      content = @Content(schema = @Schema(implementation = TaskView.class)))
  public Uni<Response> uploadStartMultipart(
      @BeanParam ImportParams params,
      @Parameter(hidden = true) @HeaderParam("Content-Length") Long contentLength,
      @Parameter(hidden = true) @HeaderParam("Content-Encoding") String contentEncoding,
      @Context HttpServerRequest http,
      @Context RoutingContext routing) {
    return imports.importMultipart(params, contentLength, contentEncoding, http, routing);
  }

  @POST
  @Path("upload/pause")
  @Operation(operationId = "uploadPause", summary = "Pause an import (as POST /tasks/{id}/pause)")
  @APIResponse(responseCode = "202", description = "Pause accepted")
  @APIResponse(responseCode = "404", description = "No such import, or none yet")
  @APIResponse(responseCode = "409", description = "Not pausable in its state")
  public Uni<Response> uploadPause(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return command(TaskKind.IMPORT, taskId, tasks::pause);
  }

  @POST
  @Path("upload/resume")
  @Operation(
      operationId = "uploadResume",
      summary = "Resume an import (as POST /tasks/{id}/resume)")
  @APIResponse(responseCode = "202", description = "Resume accepted")
  @APIResponse(responseCode = "404", description = "No such import, or none yet")
  @APIResponse(responseCode = "409", description = "Not resumable in its state")
  public Uni<Response> uploadResume(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return command(TaskKind.IMPORT, taskId, tasks::resume);
  }

  @POST
  @Path("upload/terminate")
  @Operation(
      operationId = "uploadTerminate",
      summary = "Terminate an import (as POST /tasks/{id}/terminate)")
  @APIResponse(responseCode = "202", description = "Terminate accepted")
  @APIResponse(responseCode = "404", description = "No such import, or none yet")
  @APIResponse(responseCode = "409", description = "Already COMPLETED or TERMINATED")
  public Uni<Response> uploadTerminate(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return command(TaskKind.IMPORT, taskId, tasks::terminate);
  }

  @GET
  @Path("upload/progress")
  @Operation(operationId = "uploadProgress", summary = "An import's progress (as GET /tasks/{id})")
  @APIResponse(
      responseCode = "200",
      description = "The task",
      content = @Content(schema = @Schema(implementation = TaskView.class)))
  @APIResponse(responseCode = "404", description = "No such import, or none yet")
  public Uni<TaskView> uploadProgress(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return resolve(callers.current(), TaskKind.IMPORT, taskId).map(TaskView::of);
  }

  @POST
  @Path("download/start")
  @Blocking
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(operationId = "downloadStart", summary = "Start an export (as POST /exports)")
  @APIResponse(
      responseCode = "202",
      description = "Task created",
      content = @Content(schema = @Schema(implementation = TaskView.class)))
  @APIResponse(responseCode = "400", description = "As POST /exports")
  @APIResponse(responseCode = "404", description = "No such table")
  @APIResponse(responseCode = "413", description = ExportResource.TOO_LARGE)
  public Response downloadStart(ExportService.Request request, @Context HttpServerRequest http) {
    return exports.start(request, http);
  }

  @POST
  @Path("download/pause")
  @Operation(operationId = "downloadPause", summary = "Pause an export (as POST /tasks/{id}/pause)")
  @APIResponse(responseCode = "202", description = "Pause accepted")
  @APIResponse(responseCode = "404", description = "No such export, or none yet")
  @APIResponse(responseCode = "409", description = "Not pausable in its state")
  public Uni<Response> downloadPause(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return command(TaskKind.EXPORT, taskId, tasks::pause);
  }

  @POST
  @Path("download/resume")
  @Operation(
      operationId = "downloadResume",
      summary = "Resume an export (as POST /tasks/{id}/resume)")
  @APIResponse(responseCode = "202", description = "Resume accepted")
  @APIResponse(responseCode = "404", description = "No such export, or none yet")
  @APIResponse(responseCode = "409", description = "Not resumable in its state")
  public Uni<Response> downloadResume(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return command(TaskKind.EXPORT, taskId, tasks::resume);
  }

  @POST
  @Path("download/terminate")
  @Operation(
      operationId = "downloadTerminate",
      summary = "Terminate an export (as POST /tasks/{id}/terminate)")
  @APIResponse(responseCode = "202", description = "Terminate accepted")
  @APIResponse(responseCode = "404", description = "No such export, or none yet")
  @APIResponse(responseCode = "409", description = "Already COMPLETED or TERMINATED")
  public Uni<Response> downloadTerminate(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return command(TaskKind.EXPORT, taskId, tasks::terminate);
  }

  @GET
  @Path("download/progress")
  @Operation(
      operationId = "downloadProgress",
      summary = "An export's progress (as GET /tasks/{id})")
  @APIResponse(
      responseCode = "200",
      description = "The task",
      content = @Content(schema = @Schema(implementation = TaskView.class)))
  @APIResponse(responseCode = "404", description = "No such export, or none yet")
  public Uni<TaskView> downloadProgress(
      @Parameter(description = TASK_ID_DOC) @QueryParam("taskId") String taskId) {
    return resolve(callers.current(), TaskKind.EXPORT, taskId).map(TaskView::of);
  }

  private Uni<Response> command(
      TaskKind kind, String taskId, BiFunction<Caller, UUID, Uni<Task>> command) {
    Caller caller = callers.current();
    return resolve(caller, kind, taskId)
        .flatMap(task -> command.apply(caller, task.id()))
        .map(task -> Response.accepted(TaskView.of(task)).type(MediaType.APPLICATION_JSON).build());
  }

  /**
   * The caller's task named by taskId (which must be of this kind), or the caller's newest of the
   * kind.
   */
  private Uni<Task> resolve(Caller caller, TaskKind kind, String taskId) {
    String noun = kind == TaskKind.IMPORT ? "import" : "export";
    if (taskId == null || taskId.isBlank()) {
      return tasks.latest(caller, kind);
    }
    return tasks
        .get(caller, Ids.parse(taskId))
        .invoke(
            task -> {
              if (task.kind() != kind) {
                throw Refusal.notFound("task " + task.id() + " is not an " + noun + " task");
              }
            });
  }
}
