package dev.tsm.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tsm.access.Caller;
import dev.tsm.task.Task;
import dev.tsm.task.TaskEvents;
import dev.tsm.task.TaskFeed;
import dev.tsm.task.TaskService;
import dev.tsm.task.TaskState;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Live progress over Server-Sent Events, as {@code EventSource} uses them. Each event has an {@code
 * id:} made of the task's version (see {@link Task#version()}: the same number on every replica), a
 * name ({@code state} when the task's state changed since the subscriber's last event of it, else
 * {@code progress}) and the task as JSON. The first event says how long to wait before reconnecting
 * ({@code retry:}). A client reconnecting with {@code Last-Event-ID} is sent only what is newer
 * than it; a task that is over (COMPLETED or TERMINATED) answers 204, which stops {@code
 * EventSource}.
 */
@Path("/tasks")
@Tag(name = "Tasks")
public class EventResource {
  private static final Duration HEARTBEAT = Duration.ofSeconds(15);

  /** How long a client waits before reconnecting ({@code retry:} on the first event). */
  static final long RETRY_MILLIS = 2000;

  // Per stream: hundreds of streams opening at once each hold their snapshot until it is sent.
  private static final int SNAPSHOT_LIMIT = 100;

  private static final String EVENT =
      " Each event: 'event:' state (the first event of a task on this connection, or its state"
          + " changed) or progress (same state, new numbers); 'data:' the task as JSON, as GET"
          + " /tasks/{id} answers it (schema Task); 'id:' ";
  private static final String EVENT_END =
      ". The first event (or comment) also carries 'retry:' "
          + RETRY_MILLIS
          + " (milliseconds before reconnecting). Changes are coalesced (at most four events a"
          + " second, fewer while many streams are open: tsm.events.max-per-second; latest wins),"
          + " so versions may skip numbers; none is sent twice and none goes back. A comment line (': keep-alive') after 15 s of silence keeps proxies"
          + " from closing the stream.";

  private final TaskEvents events;
  private final TaskService tasks;
  private final Rendered rendered;
  private final Callers callers;

  EventResource(TaskEvents events, TaskService tasks, ObjectMapper mapper, Callers callers) {
    this.events = events;
    this.tasks = tasks;
    this.callers = callers;
    // The same mapper as the REST responses: a task reads the same on every channel.
    this.rendered = new Rendered(mapper);
  }

  @GET
  @Path("/events")
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @Operation(
      operationId = "streamAllTasks",
      summary = "Live changes of every task (Server-Sent Events)",
      description =
          "First the current snapshot (one 'state' event per task, oldest first: the unfinished"
              + " tasks, then the newest finished ones, at most 100), then each change. A"
              + " reconnecting client gets the snapshot again (its view is rebuilt from it), less"
              + " the task state its Last-Event-ID names when that is still current."
              + EVENT
              + "<task id>:<version>, the task's version counting its changes (the same on every"
              + " replica)"
              + EVENT_END)
  @APIResponse(
      responseCode = "200",
      description = "text/event-stream of task events",
      content =
          @Content(
              mediaType = MediaType.SERVER_SENT_EVENTS,
              schema = @Schema(type = SchemaType.STRING)))
  @APIResponse(
      responseCode = "503",
      description =
          "This instance has as many event streams open as it may (tsm.events.max-streams), or"
              + " the database is away: try again after Retry-After seconds")
  public Multi<OutboundSseEvent> all(
      @Context Sse sse,
      @Parameter(
              description =
                  "The id of the last event received (<task id>:<version>): that task is left out"
                      + " of the snapshot unless it changed since")
          @HeaderParam("Last-Event-ID")
          String lastEventId) {
    Caller caller = callers.current();
    Stream stream = new Stream(sse, rendered, true);
    stream.seen(lastEventId);
    TaskFeed feed = events.open(task -> caller.owns(task.createdBy()));
    Multi<Task> snapshot =
        tasks
            .snapshot(caller, SNAPSHOT_LIMIT)
            .onItem()
            .transformToMulti(list -> Multi.createFrom().iterable(list));
    Multi<Task> changes = feed.changes(HEARTBEAT).onItem().transformToIterable(batch -> batch);
    return Multi.createBy()
        .concatenating()
        .streams(Multi.createFrom().item(TaskFeed.HEARTBEAT), snapshot, changes)
        .select()
        .where(stream::newer)
        .map(stream::event);
  }

  @GET
  @Path("/{id}/events")
  @Blocking
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @Operation(
      operationId = "streamTask",
      summary = "Live changes of one task (Server-Sent Events)",
      description =
          "First the current state (unless Last-Event-ID names it already), then each change;"
              + " after a COMPLETED or TERMINATED event the stream ends, and reconnecting to a"
              + " task that is over answers 204, which stops EventSource."
              + EVENT
              + "the task's version, counting its changes (the same on every replica): a client"
              + " reconnecting with Last-Event-ID is sent the task's current state next when it"
              + " changed since, nothing otherwise, so no change is missed"
              + EVENT_END)
  @APIResponse(
      responseCode = "200",
      description = "text/event-stream of the task's events",
      content =
          @Content(
              mediaType = MediaType.SERVER_SENT_EVENTS,
              schema = @Schema(type = SchemaType.STRING)))
  @APIResponse(
      responseCode = "204",
      description = "The task is over (COMPLETED or TERMINATED): nothing more will come")
  @APIResponse(responseCode = "404", description = "No such task")
  @APIResponse(
      responseCode = "503",
      description =
          "This instance has as many event streams open as it may (tsm.events.max-streams), or"
              + " the database is away: try again after Retry-After seconds")
  public Multi<OutboundSseEvent> one(
      @Context Sse sse,
      @Parameter(description = "Task id (UUID)") @PathParam("id") String id,
      @Parameter(
              description =
                  "The id of the last event received (the task's version): only newer states"
                      + " are sent")
          @HeaderParam("Last-Event-ID")
          String lastEventId) {
    UUID taskId = Ids.parse(id);
    Caller caller = callers.current();
    // Open the feed before reading the snapshot: a change in between is not missed.
    TaskFeed feed = events.open(task -> task.id().equals(taskId));
    Task current =
        tasks
            .get(caller, taskId)
            .onFailure()
            .invoke(e -> feed.close())
            .await()
            .atMost(Duration.ofSeconds(30));
    Stream stream = new Stream(sse, rendered, false);
    if (lastEventId != null) {
      stream.seen(taskId, lastEventId);
    }
    boolean news = stream.newer(current); // once: it records what the client has
    // Over: 204, unless a client reconnecting missed how it ended (it gets the final state first).
    if (current.state().isFinal() && (lastEventId == null || !news)) {
      feed.close();
      throw new Over();
    }
    Multi<Task> changes = feed.changes(HEARTBEAT).onItem().transformToIterable(batch -> batch);
    // The current state, or a comment in its place when the client has it: either way the stream
    // opens (and says retry:) at once.
    Task first = news ? current : TaskFeed.HEARTBEAT;
    Multi<Task> all =
        Multi.createBy()
            .concatenating()
            .streams(Multi.createFrom().item(first), changes.select().where(stream::newer));
    // Through the first final state, then end the stream at once: an empty marker follows the
    // final task, so the stream does not wait for a next tick (up to a heartbeat) to end.
    return all.onItem()
        .transformToMultiAndConcatenate(
            task ->
                task != TaskFeed.HEARTBEAT && task.state().isFinal()
                    ? Multi.createFrom().items(Optional.of(task), Optional.<Task>empty())
                    : Multi.createFrom().item(Optional.of(task)))
        .select()
        .first(Optional::isPresent)
        .map(task -> stream.event(task.get()));
  }

  /** A task that is over has no stream: 204 tells {@code EventSource} not to reconnect. */
  static final class Over extends RuntimeException {
    Over() {
      super("the task is over", null, false, false);
    }
  }

  @ServerExceptionMapper
  public Response over(Over e) {
    return Response.noContent().build();
  }

  /**
   * The JSON of each task's latest state, made once and shared by every subscriber: with hundreds
   * of streams open, a change costs one serialisation, not one per subscriber.
   */
  private static final class Rendered {
    private final ObjectMapper mapper;
    private final Map<UUID, Map.Entry<Task, String>> latest = new ConcurrentHashMap<>();

    Rendered(ObjectMapper mapper) {
      this.mapper = mapper;
    }

    String json(Task task) {
      Map.Entry<Task, String> cached = latest.get(task.id());
      // The same object reaches every subscriber: identity first, a record's deep equals after.
      if (cached != null && (cached.getKey() == task || cached.getKey().equals(task))) {
        return cached.getValue();
      }
      try {
        String json = mapper.writeValueAsString(TaskView.of(task));
        latest.put(task.id(), Map.entry(task, json));
        if (latest.size() > 10_000) {
          latest.clear();
        }
        return json;
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * One connection's events: only states newer than the client has (per task, by version), named
   * against what it was sent, the first with {@code retry:}.
   */
  private static final class Stream {
    private final Sse sse;
    private final Rendered rendered;
    private final boolean taskInId;
    private final Map<UUID, Long> lastVersion = new ConcurrentHashMap<>();
    private final Map<UUID, TaskState> lastState = new ConcurrentHashMap<>();
    private final AtomicBoolean started = new AtomicBoolean();

    Stream(Sse sse, Rendered rendered, boolean taskInId) {
      this.sse = sse;
      this.rendered = rendered;
      this.taskInId = taskInId;
    }

    /** Records the version of a task the client has; a version that is not a number is ignored. */
    void seen(UUID task, String version) {
      try {
        lastVersion.put(task, Long.parseLong(version.trim()));
      } catch (NumberFormatException e) {
        // Not an id of this stream: the client gets everything.
      }
    }

    /** Records a {@code <task id>:<version>} the client has; anything else is ignored. */
    void seen(String lastEventId) {
      int colon = lastEventId == null ? -1 : lastEventId.indexOf(':');
      try {
        if (colon > 0) {
          seen(UUID.fromString(lastEventId.substring(0, colon)), lastEventId.substring(colon + 1));
        }
      } catch (IllegalArgumentException e) {
        // Not an id of this stream: the client gets everything.
      }
    }

    /** Whether the task is newer than what this client has; a heartbeat always passes. */
    boolean newer(Task task) {
      if (task == TaskFeed.HEARTBEAT) {
        return true;
      }
      long before = lastVersion.getOrDefault(task.id(), Long.MIN_VALUE);
      if (task.version() <= before) {
        return false;
      }
      lastVersion.put(task.id(), task.version());
      return true;
    }

    OutboundSseEvent event(Task task) {
      OutboundSseEvent.Builder event = sse.newEventBuilder();
      if (!started.getAndSet(true)) {
        event.reconnectDelay(RETRY_MILLIS);
      }
      if (task == TaskFeed.HEARTBEAT) {
        return event.comment("keep-alive").build();
      }
      TaskState before = lastState.put(task.id(), task.state());
      String version = Long.toString(task.version());
      // No media type on the event: it would be written into the stream as a "content-type:" line.
      return event
          .id(taskInId ? task.id() + ":" + version : version)
          .name(before == task.state() ? "progress" : "state")
          .data(String.class, rendered.json(task))
          .build();
    }
  }
}
