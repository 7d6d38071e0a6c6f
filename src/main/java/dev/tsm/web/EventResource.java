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
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Live progress over Server-Sent Events. Each event has an {@code id:}, a name ({@code state} when
 * the task's state changed since the subscriber's last event of it, else {@code progress}) and the
 * task as JSON. The first events are the current snapshot; a reconnecting client (Last-Event-ID)
 * gets the snapshot again at once.
 */
@Path("/tasks")
@Tag(name = "Tasks")
public class EventResource {
  private static final Duration THROTTLE = Duration.ofMillis(250);
  private static final Duration HEARTBEAT = Duration.ofSeconds(15);
  // Per stream: hundreds of streams opening at once each hold their snapshot until it is sent.
  private static final int SNAPSHOT_LIMIT = 100;

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
              + " tasks, then the newest finished ones, at most 100),"
              + " then each change, at most four events a second per task, latest wins. A comment"
              + " line every 15 s of silence keeps proxies from closing the stream.")
  @APIResponse(responseCode = "200", description = "text/event-stream of task events")
  public Multi<OutboundSseEvent> all(
      @Context Sse sse,
      @Parameter(description = "Ignored: a reconnecting client gets the snapshot again")
          @HeaderParam("Last-Event-ID")
          String lastEventId) {
    Caller caller = callers.current();
    Stream stream = new Stream(sse, rendered);
    TaskFeed feed = events.open(task -> caller.owns(task.createdBy()));
    Multi<OutboundSseEvent> snapshot =
        tasks
            .snapshot(caller, SNAPSHOT_LIMIT)
            .onItem()
            .transformToMulti(list -> Multi.createFrom().iterable(list))
            .map(stream::event);
    return Multi.createBy()
        .concatenating()
        .streams(
            snapshot,
            feed.changes(THROTTLE, HEARTBEAT).onItem().transformToIterable(stream::events));
  }

  @GET
  @Path("/{id}/events")
  @Blocking
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @Operation(
      operationId = "streamTask",
      summary = "Live changes of one task (Server-Sent Events)",
      description =
          "First the current snapshot, then each change (at most four a second, latest wins); the"
              + " stream ends after the task is COMPLETED or TERMINATED.")
  @APIResponse(responseCode = "200", description = "text/event-stream of the task's events")
  @APIResponse(responseCode = "404", description = "No such task")
  public Multi<OutboundSseEvent> one(
      @Context Sse sse,
      @Parameter(description = "Task id (UUID)") @PathParam("id") String id,
      @Parameter(description = "Ignored: a reconnecting client gets the snapshot again")
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
    Stream stream = new Stream(sse, rendered);
    Multi<Task> changes =
        feed.changes(THROTTLE, HEARTBEAT).onItem().transformToIterable(batch -> batch);
    Multi<Task> all =
        Multi.createBy().concatenating().streams(Multi.createFrom().item(current), changes);
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
      if (cached != null && cached.getKey().equals(task)) {
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

  /** Numbers the events of one stream and names them against what the subscriber saw. */
  private static final class Stream {
    private final Sse sse;
    private final Rendered rendered;
    private final AtomicLong sequence = new AtomicLong();
    private final Map<UUID, TaskState> lastState = new ConcurrentHashMap<>();

    Stream(Sse sse, Rendered rendered) {
      this.sse = sse;
      this.rendered = rendered;
    }

    List<OutboundSseEvent> events(List<Task> batch) {
      return batch.stream().map(this::event).toList();
    }

    OutboundSseEvent event(Task task) {
      if (task == TaskFeed.HEARTBEAT) {
        return sse.newEventBuilder().comment("keep-alive").build();
      }
      TaskState before = lastState.put(task.id(), task.state());
      return sse.newEventBuilder()
          .id(Long.toString(sequence.incrementAndGet()))
          .name(before == task.state() ? "progress" : "state")
          .mediaType(MediaType.APPLICATION_JSON_TYPE)
          .data(String.class, rendered.json(task))
          .build();
    }
  }
}
