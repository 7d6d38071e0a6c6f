package dev.tsm.support;

import io.restassured.path.json.JsonPath;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A raw {@code text/event-stream} reader: a thread parses {@code id:}, {@code event:} and {@code
 * data:} lines into events until the server ends the stream or it is closed.
 */
public final class EventStream implements AutoCloseable {
  /** One event; {@code data} is the task as JSON. */
  public record Event(String id, String name, String data) {
    public JsonPath json() {
      return JsonPath.from(data);
    }

    public String state() {
      return json().getString("state");
    }

    public long rowsDone() {
      return json().getLong("rowsDone");
    }

    @Override
    public String toString() {
      return name + "#" + id + " " + state() + " rowsDone=" + rowsDone();
    }
  }

  private static final Event END = new Event(null, null, null);

  private final InputStream body;
  private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
  private final List<Event> seen = new ArrayList<>();
  private final Thread reader;
  private volatile boolean ended;
  private volatile Throwable failure;

  private EventStream(InputStream body, String label) {
    this.body = body;
    this.reader = new Thread(this::read, "sse-" + label);
    reader.setDaemon(true);
    reader.start();
  }

  /** Opens {@code GET path} on the instance as an event stream. */
  public static EventStream open(ServiceProcess instance, String path) {
    HttpResponse<InputStream> response = instance.stream(path);
    if (response.statusCode() != 200) {
      throw new AssertionError("GET " + path + " answered " + response.statusCode());
    }
    String type = response.headers().firstValue("Content-Type").orElse("");
    if (!type.startsWith("text/event-stream")) {
      throw new AssertionError("GET " + path + " is " + type + ", not text/event-stream");
    }
    return new EventStream(response.body(), instance.name());
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String id = null;
      String name = "message";
      StringBuilder data = null;
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (data != null) {
            queue.add(new Event(id, name, data.toString()));
          }
          id = null;
          name = "message";
          data = null;
        } else if (line.startsWith(":")) {
          continue; // a comment: keep-alive
        } else {
          int colon = line.indexOf(':');
          String field = colon < 0 ? line : line.substring(0, colon);
          String value = colon < 0 ? "" : line.substring(colon + 1);
          if (value.startsWith(" ")) {
            value = value.substring(1);
          }
          switch (field) {
            case "id" -> id = value;
            case "event" -> name = value;
            case "data" ->
                data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
            default -> {
              // retry and unknown fields do not matter here
            }
          }
        }
      }
    } catch (IOException e) {
      failure = e;
    } finally {
      ended = true;
      queue.add(END);
    }
  }

  /**
   * The next event, waiting at most {@code atMost}; null when the stream ended (or nothing came).
   */
  public Event next(Duration atMost) {
    try {
      Event e = queue.poll(atMost.toMillis(), TimeUnit.MILLISECONDS);
      if (e == END) {
        queue.add(END);
        return null;
      }
      if (e != null) {
        synchronized (seen) {
          seen.add(e);
        }
      }
      return e;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Reads events until one matches; fails after {@code atMost} or at the end of the stream. */
  public Event until(Duration atMost, String what, Predicate<Event> match) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no event " + what + " within " + atMost + "; seen " + seen());
      }
      Event e = next(Duration.ofNanos(left));
      if (e == null && ended && queue.peek() == END) {
        throw new AssertionError(
            "the stream ended before an event " + what + " (" + failure + "); seen " + seen());
      }
      if (e != null && match.test(e)) {
        return e;
      }
    }
  }

  /** Every event taken so far, in order. */
  public List<Event> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** Whether the server ended the stream within {@code atMost} (after any events left). */
  public boolean ends(Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (System.nanoTime() < deadline) {
      Event e = next(Duration.ofMillis(100));
      if (e == null && ended && queue.peek() == END) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    try {
      body.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    reader.interrupt();
  }
}
