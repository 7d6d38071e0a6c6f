package dev.tsm.web;

import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.importing.ImportOptions;
import dev.tsm.importing.Rejects;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskService;
import dev.tsm.task.TaskState;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestMulti;

/** Tasks of every kind: list, read, and the three commands. */
@Path("/tasks")
@Tag(name = "Tasks", description = "Read tasks and pause, resume or terminate them")
@Produces(MediaType.APPLICATION_JSON)
public class TaskResource {
  private static final String ID_DOC = "Task id (UUID)";
  private static final String CONFLICT_EXAMPLE =
      "{\"type\":\"about:blank\",\"title\":\"Conflict\",\"status\":409,"
          + "\"detail\":\"task 0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10 is COMPLETED and cannot be"
          + " paused\",\"instance\":\"/tasks/0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10/pause\","
          + "\"state\":\"COMPLETED\"}";
  private static final String NOT_FOUND_EXAMPLE =
      "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
          + "\"detail\":\"there is no task 0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10\"}";
  private static final String BAD_ID_EXAMPLE =
      "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
          + "\"detail\":\"'42' is not a task id: ids are UUIDs such as"
          + " 0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10\"}";

  private static final String REJECT_HEADER = "line,reason,record\n";

  private final TaskService tasks;
  private final Rejects rejects;
  private final Callers callers;

  TaskResource(TaskService tasks, Rejects rejects, Callers callers) {
    this.tasks = tasks;
    this.rejects = rejects;
    this.callers = callers;
  }

  @GET
  @Operation(operationId = "listTasks", summary = "List tasks, newest first")
  @APIResponse(responseCode = "200", description = "The tasks")
  @APIResponse(responseCode = "400", description = "Unknown state or kind")
  public Uni<List<TaskView>> list(
      @Parameter(
              description = "Only tasks in this state (any case)",
              schema = @Schema(implementation = TaskState.class))
          @QueryParam("state")
          String state,
      @Parameter(
              description = "Only tasks of this kind (any case)",
              schema = @Schema(implementation = TaskKind.class))
          @QueryParam("kind")
          String kind,
      // A String, parsed here: an int that does not convert would be a 404 from JAX-RS.
      @Parameter(
              description = "At most this many (1 to 1000)",
              schema =
                  @Schema(
                      type = SchemaType.INTEGER,
                      format = "int32",
                      minimum = "1",
                      maximum = "1000",
                      defaultValue = "100"))
          @QueryParam("limit")
          @DefaultValue("100")
          String limit,
      @Parameter(
              description =
                  "Only the tasks listed after this one (a task id): the next page of the list",
              schema = @Schema(type = SchemaType.STRING, format = "uuid"))
          @QueryParam("before")
          String before) {
    return tasks
        .list(
            callers.current(),
            parse(TaskState.class, "state", state),
            parse(TaskKind.class, "kind", kind),
            before == null || before.isBlank() ? null : Ids.parse(before),
            limit(limit))
        .map(list -> list.stream().map(TaskView::of).toList());
  }

  @GET
  @Path("/{id}")
  @Operation(operationId = "getTask", summary = "Read a task and its progress")
  @APIResponse(responseCode = "200", description = "The task")
  @APIResponse(
      responseCode = "400",
      description = "Malformed id",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class),
              examples = @ExampleObject(name = "malformed id", value = BAD_ID_EXAMPLE)))
  @APIResponse(
      responseCode = "404",
      description = "No such task",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class),
              examples = @ExampleObject(name = "unknown id", value = NOT_FOUND_EXAMPLE)))
  public Uni<TaskView> get(@Parameter(description = ID_DOC) @PathParam("id") String id) {
    return tasks.get(callers.current(), Ids.parse(id)).map(TaskView::of);
  }

  @POST
  @Path("/{id}/pause")
  @Operation(
      operationId = "pauseTask",
      summary = "Pause a task",
      description =
          "A PENDING task pauses at once; a RUNNING one as soon as the instance running it hears"
              + " of it (milliseconds): its batches in flight roll back and it stays at its last"
              + " checkpoint (the state turns PAUSED then). A paused task holds no connection,"
              + " thread or buffer.")
  @APIResponse(responseCode = "202", description = "Pause accepted; the task as it is now")
  @APIResponse(
      responseCode = "409",
      description = "The task is in no state to pause; the problem names the state",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class),
              examples = @ExampleObject(name = "already completed", value = CONFLICT_EXAMPLE)))
  @APIResponse(responseCode = "404", description = "No such task")
  @APIResponse(responseCode = "400", description = "Malformed id")
  public Uni<Response> pause(@Parameter(description = ID_DOC) @PathParam("id") String id) {
    return accepted(tasks::pause, id);
  }

  @POST
  @Path("/{id}/resume")
  @Operation(
      operationId = "resumeTask",
      summary = "Resume a PAUSED or FAILED task",
      description =
          "The task is queued (PENDING) and continues from its last checkpoint: no row twice,"
              + " none missing. Resuming a RUNNING task whose pause has not taken effect yet"
              + " withdraws the pause.")
  @APIResponse(responseCode = "202", description = "Resume accepted; the task as it is now")
  @APIResponse(
      responseCode = "409",
      description = "The task is in no state to resume; the problem names the state")
  @APIResponse(responseCode = "404", description = "No such task")
  @APIResponse(
      responseCode = "400",
      description = "Malformed id, an unknown onError, or onError for an export")
  public Uni<Response> resume(
      @Parameter(description = ID_DOC) @PathParam("id") String id,
      @Parameter(
              description =
                  "Imports: go on with this bad-row policy (fail or skip); skip sets bad rows"
                      + " aside with no maxErrors, e.g. to retry a FAILED import skipping the"
                      + " row that failed it",
              schema =
                  @Schema(
                      type = SchemaType.STRING,
                      enumeration = {"fail", "skip"}))
          @QueryParam("onError")
          String onError) {
    ImportOptions.OnError policy = parse(ImportOptions.OnError.class, "onError", onError);
    if (policy == null) {
      return accepted(tasks::resume, id);
    }
    JsonObject changes =
        new JsonObject().put("onError", policy.name().toLowerCase()).putNull("maxErrors");
    return accepted((caller, uuid) -> tasks.resume(caller, uuid, changes), id);
  }

  @POST
  @Path("/{id}/terminate")
  @Operation(
      operationId = "terminateTask",
      summary = "Terminate a task and undo its work",
      description =
          "From PENDING, PAUSED or FAILED the work is undone at once; a RUNNING task stops as"
              + " soon as the instance running it hears of it, then is undone: its staging table"
              + " and files are removed and the database is as it was before the task.")
  @APIResponse(responseCode = "202", description = "Terminate accepted; the task as it is now")
  @APIResponse(responseCode = "409", description = "The task is COMPLETED or TERMINATED")
  @APIResponse(responseCode = "404", description = "No such task")
  @APIResponse(responseCode = "400", description = "Malformed id")
  public Uni<Response> terminate(@Parameter(description = ID_DOC) @PathParam("id") String id) {
    return accepted(tasks::terminate, id);
  }

  @GET
  @Path("/{id}/rejects")
  @Produces("text/csv")
  @Operation(
      operationId = "getRejects",
      summary = "The rows an import set aside (onError=skip)",
      description = "CSV with a header: line (in the uploaded file), reason, record (as sent).")
  @APIResponse(
      responseCode = "200",
      description = "The rejected rows",
      content =
          @Content(
              mediaType = "text/csv",
              examples =
                  @ExampleObject(
                      name = "one bad row",
                      value = "line,reason,record\n" + "17,expected 3 fields; found 2,\"4,x\"\n")))
  @APIResponse(responseCode = "404", description = "No such task")
  public RestMulti<String> rejects(@Parameter(description = ID_DOC) @PathParam("id") String id) {
    // The task is looked up first, so an unknown one is a 404 rather than an empty stream.
    return RestMulti.fromUniResponse(
        tasks.get(callers.current(), Ids.parse(id)),
        task -> rejectPages(task.id()),
        task -> Map.of("Content-Type", List.of("text/csv; charset=UTF-8")));
  }

  /**
   * The rejects as CSV, a page of rows at a time (keyset on the line): the body is streamed, never
   * built whole, and the next page is read only when the client took the last one.
   */
  private Multi<String> rejectPages(UUID id) {
    Multi<String> pages = rejects.pages(id).map(TaskResource::rejectsCsv);
    return Multi.createBy().concatenating().streams(Multi.createFrom().item(REJECT_HEADER), pages);
  }

  private Uni<Response> accepted(
      BiFunction<Caller, java.util.UUID, Uni<dev.tsm.task.Task>> command, String id) {
    return command
        .apply(callers.current(), Ids.parse(id))
        .map(task -> Response.accepted(TaskView.of(task)).type(MediaType.APPLICATION_JSON).build());
  }

  private static String rejectsCsv(List<Rejects.Reject> rows) {
    StringBuilder csv = new StringBuilder();
    for (Rejects.Reject row : rows) {
      csv.append(row.line())
          .append(',')
          .append(quote(row.reason()))
          .append(',')
          .append(quote(row.record()))
          .append('\n');
    }
    return csv.toString();
  }

  private static String quote(String value) {
    return '"' + value.replace("\"", "\"\"") + '"';
  }

  private static int limit(String value) {
    try {
      int limit = Integer.parseInt(value.strip());
      if (limit >= 1 && limit <= 1000) {
        return limit;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw Refusal.invalid(
        "parameter 'limit' must be a whole number between 1 and 1000, not '" + value + "'");
  }

  private static <E extends Enum<E>> E parse(Class<E> type, String name, String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Enum.valueOf(type, value.toUpperCase());
    } catch (IllegalArgumentException e) {
      throw Refusal.invalid(
          "parameter '"
              + name
              + "' must be one of "
              + java.util.Arrays.toString(type.getEnumConstants())
              + ", not '"
              + value
              + "'");
    }
  }
}
