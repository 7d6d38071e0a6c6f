package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Progress pushed over Server-Sent Events, read by a raw HTTP client as a browser would. */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ServerSentEventsTest {
  @TestHTTPResource("/")
  URL base;

  /** One parsed event; {@code name} null for the end of the stream. */
  record Event(String id, String name, JsonPath task) {}

  @Test
  void taskStreamShowsSnapshotProgressPauseResumeAndEnds() throws Exception {
    String id = Api.startImport("sse_import", CsvFiles.mixed("sse.csv", 20_000, 5));
    BlockingQueue<Event> events = open("tasks/" + id + "/events", null);

    Event first = next(events);
    assertNotNull(first.id(), "every event has an id");
    assertEquals("state", first.name(), "the first event is the snapshot");
    assertEquals(id, first.task().getString("id"));

    long rows = awaitRows(events, 1);
    Api.command(id, "pause").then().statusCode(202);
    Event paused = awaitState(events, "PAUSED");
    assertEquals("state", paused.name());
    long pausedAt = paused.task().getLong("rowsDone");
    assertTrue(pausedAt >= rows);

    Api.command(id, "resume").then().statusCode(202);
    Event resumed = awaitState(events, "RUNNING");
    assertEquals("state", resumed.name());
    Event done = awaitState(events, "COMPLETED");
    assertEquals(20_000, done.task().getLong("rowsDone"));
    assertEquals(100.0, done.task().getDouble("percent"));
    Event end = next(events);
    assertEquals(null, end.name(), "the stream ends after the final state");
  }

  @Test
  void allTasksStreamAndReconnectGetTheSnapshotAtOnce() throws Exception {
    String id = Api.startImport("sse_all", CsvFiles.mixed("sse-all.csv", 5_000, 9));
    Api.awaitState(id, "COMPLETED");
    BlockingQueue<Event> all = open("tasks/events", null);
    Event mine = null;
    for (int i = 0; i < 1000 && mine == null; i++) {
      Event e = next(all);
      if (id.equals(e.task().getString("id"))) {
        mine = e;
      }
    }
    assertNotNull(mine, "the snapshot holds every task");
    assertEquals("COMPLETED", mine.task().getString("state"));

    // A task that is over has no stream: 204, which stops EventSource reconnecting.
    assertEquals(204, status("tasks/" + id + "/events", "42"));
    assertEquals(204, status("tasks/" + id + "/events", null));
    // The all-tasks stream names each event <task id>:<version>.
    assertTrue(mine.id().startsWith(id + ":"), mine.id());

    // Another task started now shows up live on the open stream.
    String other = Api.startImport("sse_all_2", CsvFiles.mixed("sse-all-2.csv", 5_000, 10));
    Event live = null;
    for (int i = 0; i < 1000 && live == null; i++) {
      Event e = next(all);
      if (e.name() != null && other.equals(e.task().getString("id"))) {
        live = e;
      }
    }
    assertNotNull(live, "a new task appears on the all-tasks stream");
    Api.awaitState(other, "COMPLETED");
  }

  @Test
  void anUnfinishedTaskLeadsTheSnapshotPastAHundredNewerFinishedOnes() throws Exception {
    // A FAILED import: unfinished (it can be resumed), older than everything below.
    String failed =
        Api.startImport("sse_failed", CsvFiles.write("sse-failed.csv", "a,b\n1,2\n3\n4,5\n"));
    Api.awaitState(failed, "FAILED");
    dev.tsm.support.Db.execute("CREATE TABLE public.sse_tiny (id integer PRIMARY KEY)");
    dev.tsm.support.Db.execute("INSERT INTO public.sse_tiny VALUES (1)");
    for (int i = 0; i < 101; i++) {
      Api.awaitState(
          dev.tsm.support.Exports.start(java.util.Map.of("table", "sse_tiny")), "COMPLETED");
    }
    BlockingQueue<Event> all = open("tasks/events", null);
    java.util.Set<String> snapshot = new java.util.HashSet<>();
    for (Event e = all.poll(5, TimeUnit.SECONDS);
        e != null && e.name() != null;
        e = all.poll(1, TimeUnit.SECONDS)) {
      snapshot.add(e.task().getString("id"));
    }
    assertTrue(snapshot.size() <= 100, "the snapshot holds at most 100 tasks: " + snapshot.size());
    assertTrue(snapshot.contains(failed), "the unfinished task is in the snapshot");
  }

  /**
   * An EventSource-style client following an import whose body is still arriving (the test decides
   * when it moves): it cuts the connection mid-import, waits the {@code retry:} the server asked
   * for, and comes back with {@code Last-Event-ID}, again and again, while the task is paused,
   * resumed and loads more. Ids are the task's versions ({@code tsm.task.version}, one per visible
   * change). No id comes twice, none goes back, and no change is missed: a reconnect is first sent
   * the task as it is then (an id between the versions the database held just before and after),
   * and within a connection ids skip only versions coalesced into a later event; every pause and
   * resume made while connected is seen as a {@code state} event. The last id is the task's last
   * version, the stream ends after COMPLETED, and a reconnect after that is 204.
   */
  @Test
  void aClientReconnectingWithLastEventIdMissesNothingAndGetsNothingTwice() throws Exception {
    Path file = CsvFiles.mixed("sse-resume.csv", 30_000, 11);
    byte[] body = Files.readAllBytes(file);
    assertTrue(body.length > 2 << 20, "large enough to load while it arrives: " + body.length);
    Seen seen = new Seen();
    try (SlowUpload upload = SlowUpload.start("table=sse_resume", body)) {
      upload.send(body.length / 2);
      String id = Db.awaitTaskOf("sse_resume");
      String path = "tasks/" + id + "/events";
      long retry;
      try (Connection c = connect(path, null)) {
        Event first = seen.add(next(c.events));
        assertEquals("state", first.name(), "the first event is the snapshot");
        retry = c.retry();
        assertEquals(EventResource.RETRY_MILLIS, retry, c.raw());
        assertFalse(c.raw().toLowerCase().contains("content-type"), c.raw());
      }
      // Cut mid-import (the task loaded what arrived and waits for the rest): while the client is
      // away the task is paused and resumed; back, it is sent the task as it is now, sees a pause
      // and a resume live, and cuts again.
      for (int round = 0; round < 3; round++) {
        pauseAndResume(id, null, seen);
        upload.send(1_000); // the body keeps arriving (tsm.import.idle-timeout)
        Waits.pause(retry); // as EventSource waits before reconnecting
        long away = version(id);
        try (Connection c = connect(path, seen.last())) {
          Event now = seen.add(next(c.events));
          assertBetween(away, Long.parseLong(now.id()), version(id), "the task as it is now");
          assertEquals("RUNNING", now.task().getString("state"), "mid-import");
          pauseAndResume(id, c.events, seen);
        }
      }
      // Away: more of the body arrives (past the next MiB the receiver writes) and is loaded.
      long rowsBefore = seen.lastRows();
      upload.send((2 << 20) + 100_000 - upload.sent());
      Waits.until(
          Duration.ofSeconds(60),
          "the task loaded what arrived",
          () -> Api.task(id).getLong("rowsDone") > rowsBefore);
      Waits.pause(retry);
      long loaded = version(id);
      try (Connection c = connect(path, seen.last())) {
        Event now = seen.add(next(c.events));
        assertBetween(loaded, Long.parseLong(now.id()), version(id), "the task as it is now");
        assertTrue(now.task().getLong("rowsDone") > rowsBefore, "what was loaded while away");
      }
      // Away: the task is paused. Back: its paused state comes first.
      Api.command(id, "pause").then().statusCode(202);
      JsonPath paused = Api.awaitState(id, "PAUSED");
      Waits.pause(retry);
      long away = version(id);
      try (Connection c = connect(path, seen.last())) {
        Event now = seen.add(next(c.events));
        assertEquals("PAUSED", now.task().getString("state"), "the state as it is now");
        assertEquals("state", now.name());
        assertEquals(paused.getLong("rowsDone"), now.task().getLong("rowsDone"));
        assertEquals(away, Long.parseLong(now.id()), "a paused task does not move");
      }
      // Back with the current id: nothing is sent again, the stream stays open and quiet.
      try (Connection c = connect(path, seen.last())) {
        assertEquals(null, c.events.poll(2, TimeUnit.SECONDS), "nothing new, nothing twice");
        assertTrue(c.raw().contains("keep-alive"), c.raw());
        assertTrue(c.raw().contains("retry:"), "the comment says when to reconnect");
      }
      Api.command(id, "resume").then().statusCode(202);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
      // Reconnect after every few events until the stream ends after COMPLETED.
      Event end = null;
      while (end == null) {
        try (Connection c = connect(path, seen.last())) {
          for (int i = 0; i < 3 && end == null; i++) {
            Event e = next(c.events);
            if (e.name() == null) {
              throw new AssertionError("the stream ended before COMPLETED; ids " + seen.ids);
            }
            seen.add(e);
            if ("COMPLETED".equals(e.task().getString("state"))) {
              end = e;
              assertEquals(null, next(c.events).name(), "the stream ends after the final state");
            }
          }
        }
      }
      assertEquals(30_000, end.task().getLong("rowsDone"));
      assertEquals(version(id), seen.lastId(), "the last id is the task's last version");
      assertEquals(204, status(path, seen.last()), "over: EventSource stops");
      assertEquals(204, status(path, null), "over, for a new client too");
      Db.copyReference("ref_sse_resume", "public.sse_resume", file, ", HEADER true");
      Db.assertSameRows("ref_sse_resume", "public.sse_resume");
    }
  }

  /**
   * Pauses the task and resumes it, waiting for each state; with {@code events}, each is also seen
   * there, live, as a {@code state} event, every event read going to {@code seen}.
   */
  private static void pauseAndResume(String id, BlockingQueue<Event> events, Seen seen)
      throws Exception {
    for (String[] step : new String[][] {{"pause", "PAUSED"}, {"resume", "RUNNING"}}) {
      Api.command(id, step[0]).then().statusCode(202);
      Api.awaitState(id, step[1]);
      if (events != null) {
        Event e;
        do {
          e = next(events);
          assertNotNull(e.name(), "the stream ended before " + step[1]);
          seen.add(e);
        } while (!step[1].equals(e.task().getString("state")));
        assertEquals("state", e.name(), "a new state is a state event");
      }
    }
  }

  private static void assertBetween(long low, long actual, long high, String what) {
    assertTrue(
        low <= actual && actual <= high, what + ": " + actual + " not in " + low + ".." + high);
  }

  /** The task's version in the database: what the ids of its events count. */
  private static long version(String id) {
    return Db.count("SELECT version FROM tsm.task WHERE id = '" + id + "'");
  }

  /** What a client has received across its connections: ids only go up, progress never back. */
  private static final class Seen {
    final List<Long> ids = new ArrayList<>();
    private Event last;

    Event add(Event e) {
      assertNotNull(e.id(), "every event has an id: " + e);
      long id = Long.parseLong(e.id());
      assertTrue(ids.isEmpty() || id > lastId(), "no id twice, none back: " + id + " after " + ids);
      if (last != null) {
        assertTrue(
            e.task().getLong("rowsDone") >= last.task().getLong("rowsDone"),
            "progress never goes back");
      }
      ids.add(id);
      last = e;
      return e;
    }

    long lastRows() {
      return last.task().getLong("rowsDone");
    }

    long lastId() {
      return ids.get(ids.size() - 1);
    }

    /** The Last-Event-ID a reconnecting EventSource sends. */
    String last() {
      return last.id();
    }
  }

  @Test
  void unknownTaskStreamIs404ProblemJson() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        base.toURI().resolve("tasks/0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10/events"))
                    .header("Authorization", Auth.bearer(Auth.ALICE))
                    .header("Accept", "text/event-stream")
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(404, r.statusCode());
    assertTrue(
        r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
    assertFalse(r.body().isBlank());
  }

  private long awaitRows(BlockingQueue<Event> events, long rows) throws Exception {
    long last = -1;
    for (int i = 0; i < 10_000; i++) {
      Event e = next(events);
      long done = e.task().getLong("rowsDone");
      assertTrue(done >= last, "progress never goes back");
      last = done;
      if (done >= rows) {
        return done;
      }
    }
    throw new AssertionError("no progress");
  }

  private Event awaitState(BlockingQueue<Event> events, String state) throws Exception {
    long last = -1;
    for (int i = 0; i < 10_000; i++) {
      Event e = next(events);
      if (e.name() == null) {
        throw new AssertionError("stream ended before " + state);
      }
      long done = e.task().getLong("rowsDone");
      assertTrue(done >= last, "progress never goes back");
      last = done;
      if (state.equals(e.task().getString("state"))) {
        return e;
      }
    }
    throw new AssertionError("never saw " + state);
  }

  private static Event next(BlockingQueue<Event> events) throws InterruptedException {
    Event e = events.poll(60, TimeUnit.SECONDS);
    if (e == null) {
      throw new AssertionError("no event within 60 s");
    }
    return e;
  }

  /** Reads a text/event-stream on a thread of its own; an event with no name marks its end. */
  private BlockingQueue<Event> open(String path, String lastEventId) throws Exception {
    return connect(path, lastEventId).events;
  }

  /** The status a GET of the stream answers (a stream's body is left unread). */
  private int status(String path, String lastEventId) throws Exception {
    try (Connection c = new Connection(path, lastEventId)) {
      return c.response.statusCode();
    }
  }

  private Connection connect(String path, String lastEventId) throws Exception {
    Connection c = new Connection(path, lastEventId);
    assertEquals(200, c.response.statusCode());
    assertTrue(
        c.response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    c.start();
    return c;
  }

  /** One connection to a stream, as EventSource makes it: the events, and the raw text read. */
  private final class Connection implements AutoCloseable {
    final HttpResponse<InputStream> response;
    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final StringBuffer raw = new StringBuffer();
    private volatile long retry = -1;

    Connection(String path, String lastEventId) throws Exception {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(base.toString()).resolve(path))
              .header("Authorization", Auth.bearer(Auth.ALICE))
              .header("Accept", "text/event-stream")
              .timeout(Duration.ofMinutes(2));
      if (lastEventId != null) {
        request.header("Last-Event-ID", lastEventId);
      }
      response =
          HttpClient.newHttpClient()
              .send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    String raw() {
      return raw.toString();
    }

    /** The reconnection delay the server asked for ({@code retry:}), -1 if none yet. */
    long retry() {
      return retry;
    }

    void start() {
      Thread reader = new Thread(this::read);
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      try (BufferedReader in =
          new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
        String id = null;
        String name = null;
        List<String> data = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
          raw.append(line).append('\n');
          if (line.isEmpty()) {
            if (!data.isEmpty()) {
              events.add(new Event(id, name, new JsonPath(String.join("\n", data))));
            }
            id = null;
            name = null;
            data.clear();
            continue;
          }
          if (line.startsWith(":")) {
            continue; // a comment: keep-alive
          }
          // field: value, one optional space after the colon (the SSE standard's parsing)
          int colon = line.indexOf(':');
          String field = colon < 0 ? line : line.substring(0, colon);
          String value = colon < 0 ? "" : line.substring(colon + 1);
          value = value.startsWith(" ") ? value.substring(1) : value;
          switch (field) {
            case "id" -> id = value;
            case "event" -> name = value;
            case "data" -> data.add(value);
            case "retry" -> retry = value.matches("[0-9]+") ? Long.parseLong(value) : retry;
            default -> {
              // unknown fields are ignored, as EventSource ignores them
            }
          }
        }
      } catch (Exception ignored) {
        // the stream was closed
      }
      events.add(new Event(null, null, null));
    }

    @Override
    public void close() throws IOException {
      response.body().close();
    }
  }
}
