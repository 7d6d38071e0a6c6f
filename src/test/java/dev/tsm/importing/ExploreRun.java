package dev.tsm.importing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.CsvShape;
import dev.tsm.support.CsvShape.Outcome;
import dev.tsm.support.CsvShapes;
import dev.tsm.support.Db;
import dev.tsm.support.HttpUpload;
import dev.tsm.support.HttpUpload.Answer;
import dev.tsm.support.HttpUpload.Framing;
import dev.tsm.support.Problems;
import dev.tsm.support.Waits;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One import of {@link ImportExploreTest}: a generated shape sent one way, paused and resumed, and
 * what it ends in checked against what the shape says a correct import gives.
 */
final class ExploreRun {
  /** How long the answer may take once the whole body is sent. */
  private static final long ANSWER_MILLIS = 20_000;

  /** Longest a task may take from its answer to its end (the largest body here is 4 MiB). */
  private static final Duration END_WAIT = Duration.ofSeconds(90);

  /** The ways a body arrives. */
  enum Arrival {
    /** Declared length, sent at once. */
    WHOLE(Framing.LENGTH),
    /** Declared length, sent piece by piece with pauses, some in the middle of a character. */
    GROWING(Framing.LENGTH),
    /** No declared length: chunks of random sizes. */
    CHUNKED(Framing.CHUNKED),
    /** The file part of a multipart/form-data body. */
    MULTIPART(Framing.MULTIPART);

    final Framing framing;

    Arrival(Framing framing) {
      this.framing = framing;
    }
  }

  private final CsvShape shape;
  private final Arrival arrival;
  private final String reference;
  private final ExecutorService pool;
  private final String table;
  private final Random rnd;
  private final Outcome expected;
  private final int batchRows;

  ExploreRun(
      CsvShape shape, Arrival arrival, String reference, ExecutorService pool, int batchRows) {
    this.shape = shape;
    this.arrival = arrival;
    this.reference = reference;
    this.pool = pool;
    this.table = baseName(shape) + "_" + arrival.name().substring(0, 1).toLowerCase(Locale.ROOT);
    String seed = shape.id().substring(shape.id().lastIndexOf('/') + 1);
    this.rnd = CsvShapes.random(Long.parseLong(seed) * 31 + arrival.ordinal());
    this.expected = shape.outcome();
    this.batchRows = batchRows;
  }

  String run() throws Exception {
    long begun = System.nanoTime();
    try (HttpUpload upload =
        HttpUpload.start(RestAssured.port, shape.query(table), arrival.framing, shape.size())) {
      Random pacing = new Random(rnd.nextLong());
      Future<Answer> answer = pool.submit(() -> deliver(upload, pacing));
      if (expected.refused()) {
        return refused(answer);
      }
      String id = awaitTask(answer);
      long created = System.nanoTime();
      String interruption = interrupt(id);
      Answer a = answerOf(answer);
      long answered = System.nanoTime();
      assertEquals(202, a.status(), "answer to POST /imports: " + a.body());
      assertEquals(id, a.json().getString("id"), a.body());
      JsonPath end = Api.awaitState(id, END_WAIT, "COMPLETED", "FAILED", "TERMINATED");
      String ended = "COMPLETED".equals(expected.state()) ? completed(id, end) : failed(id, end);
      // Checked: the tables go, so that later tests see a small database.
      Db.execute("DROP TABLE IF EXISTS public." + table + ", ref_" + table);
      return String.format(
          "%-9s %s; task after %d ms, answer after %d ms, checked after %d ms; %s",
          arrival,
          ended,
          (created - begun) / 1_000_000,
          (answered - begun) / 1_000_000,
          (System.nanoTime() - begun) / 1_000_000,
          interruption);
    }
  }

  // ---- Sending ------------------------------------------------------------------------------

  private Answer deliver(HttpUpload upload, Random pacing) throws IOException {
    byte[] body = shape.body();
    try {
      switch (arrival) {
        case GROWING -> paced(upload, body, pacing, true);
        case CHUNKED -> paced(upload, body, pacing, false);
        default -> upload.send(body, 0, body.length);
      }
    } catch (IOException e) {
      // The service may answer (413) and close before the body ended.
      return upload.answer(ANSWER_MILLIS);
    }
    return upload.finish(ANSWER_MILLIS);
  }

  /**
   * Pieces of random sizes; some end inside a multi-byte character or between CR and LF, and with
   * {@code stalls} the client goes silent at one or two of them for longer than a batch waits for
   * more data.
   */
  private void paced(HttpUpload upload, byte[] body, Random pacing, boolean stalls)
      throws IOException {
    List<Integer> candidates = new ArrayList<>();
    for (int i = 1; i < body.length; i++) {
      boolean midCharacter = (body[i] & 0xC0) == 0x80;
      boolean midLineEnd = body[i - 1] == '\r' && body[i] == '\n';
      if (midCharacter || midLineEnd) {
        candidates.add(i);
      }
    }
    TreeSet<Integer> cuts = new TreeSet<>();
    for (int n = 0; n < 8 && !candidates.isEmpty(); n++) {
      cuts.add(candidates.get(pacing.nextInt(candidates.size())));
    }
    TreeSet<Integer> silences = new TreeSet<>();
    if (stalls) {
      List<Integer> where = new ArrayList<>(cuts);
      where.add(1 + pacing.nextInt(Math.max(1, body.length - 1)));
      for (int n = 0; n < 1 + pacing.nextInt(2) && !where.isEmpty(); n++) {
        silences.add(where.remove(pacing.nextInt(where.size())));
      }
    }
    int at = 0;
    while (at < body.length) {
      int piece =
          switch (pacing.nextInt(4)) {
            case 0 -> 1 + pacing.nextInt(16);
            case 1 -> 1 + pacing.nextInt(4096);
            case 2 -> 1 + pacing.nextInt(65536);
            default -> 1 + pacing.nextInt(512 * 1024);
          };
      int next = Math.min(body.length, at + piece);
      Integer cut = cuts.higher(at);
      if (cut != null && cut < next) {
        next = cut;
      }
      upload.send(body, at, next - at);
      at = next;
      // The client's own pacing: a slow sender, not a wait for a condition.
      if (silences.contains(at)) {
        Waits.pause(600 + pacing.nextInt(600));
      } else if (pacing.nextInt(4) == 0) {
        Waits.pause(pacing.nextInt(10));
      }
    }
  }

  private Answer answerOf(Future<Answer> answer) throws Exception {
    try {
      return answer.get(2, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof HttpUpload.NoAnswer) {
        String task = Db.single("SELECT id FROM tsm.task WHERE table_name = '" + table + "'");
        throw new AssertionError(
            "POST /imports hangs: "
                + e.getCause().getMessage()
                + " after the whole body was sent ("
                + (task == null ? "no task was created" : "task " + task + " exists")
                + ")");
      }
      throw e;
    } catch (TimeoutException e) {
      throw new AssertionError("the body could not be sent within 2 minutes");
    }
  }

  // ---- Checking -----------------------------------------------------------------------------

  /** Refused at once, as a problem; no task, no table. */
  private String refused(Future<Answer> answer) throws Exception {
    Answer a = answerOf(answer);
    assertEquals(expected.status(), a.status(), a.body());
    assertTrue(a.contentType().startsWith(Problems.MEDIA_TYPE), a.contentType());
    Problems.assertMentions(a.json().getString("detail"), List.of(expected.detail()));
    assertNull(Db.single("SELECT id FROM tsm.task WHERE table_name = '" + table + "'"), "no task");
    assertFalse(Db.tableExists("public." + table), "no table");
    return String.format("%-9s refused: %d", arrival, a.status());
  }

  /** The task's id: it exists before the answer when the body loads while it arrives. */
  private String awaitTask(Future<Answer> answer) throws Exception {
    String sql = "SELECT id FROM tsm.task WHERE table_name = '" + table + "'";
    AtomicReference<String> id = new AtomicReference<>();
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              id.set(Db.single(sql));
              return id.get() != null || answer.isDone();
            });
    if (id.get() == null) {
      Answer a = answerOf(answer);
      id.set(Db.single(sql));
      assertTrue(
          id.get() != null,
          "answered " + a.status() + " " + a.body() + " and no task exists for " + table);
    }
    return id.get();
  }

  /**
   * Pauses the task as soon as it exists (before its first batch, or at the first batch end while
   * the body may still arrive), then once more at a random row when at least two batches remain
   * after the first pause; each time checks the paused task and resumes it. A task that ends before
   * a pause is heard is said so, not failed: a short file can finish first.
   */
  private String interrupt(String id) {
    List<String> done = new ArrayList<>();
    long at = pauseAndResume(id, 0, done);
    int room = expected.goodBefore() - 2 * batchRows - (int) Math.max(0, at);
    if (at >= 0 && room >= 1) {
      pauseAndResume(id, at + 1 + rnd.nextInt(room), done);
    }
    return String.join(", ", done);
  }

  /** One pause at row {@code target} or later; its row, or -1 when the task ended first. */
  private long pauseAndResume(String id, long target, List<String> done) {
    // At row 0 the pause goes out at once: a short import may be over a poll later.
    String state = target == 0 ? "PENDING" : awaitRowsOrEnd(id, target).getString("state");
    Response pause =
        "RUNNING".equals(state) || "PENDING".equals(state) ? Api.command(id, "pause") : null;
    if (pause == null || pause.statusCode() == 409) {
      done.add("ended " + Api.state(id) + " before a pause at row " + target);
      return -1;
    }
    assertEquals(202, pause.statusCode(), pause.asString());
    JsonPath paused = Api.awaitState(id, Duration.ofSeconds(30), "PAUSED", "COMPLETED", "FAILED");
    if (!"PAUSED".equals(paused.getString("state"))) {
      done.add("ended " + paused.getString("state") + " before a pause at row " + target);
      return -1;
    }
    long at = paused.getLong("rowsDone");
    assertEquals(at, stagedRows(id), "a paused task's staging table holds its checkpoint's rows");
    assertNull(Db.single("SELECT owner FROM tsm.task WHERE id = '" + id + "'"), "paused: no owner");
    assertFalse(Db.tableExists("public." + table), "the table appears only at completion");
    Api.command(id, "resume").then().statusCode(202);
    done.add("paused at row " + at + " and resumed");
    return at;
  }

  private static JsonPath awaitRowsOrEnd(String id, long rows) {
    AtomicReference<JsonPath> last = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              last.set(Api.task(id));
              String s = last.get().getString("state");
              return last.get().getLong("rowsDone") >= rows
                  || !"RUNNING".equals(s) && !"PENDING".equals(s);
            });
    return last.get();
  }

  private String completed(String id, JsonPath end) throws IOException {
    assertEquals("COMPLETED", end.getString("state"), "error: " + end.getString("error"));
    List<CsvShape.Record> bad = shape.bad();
    assertEquals(shape.good().size(), end.getLong("rowsDone"), "rows done");
    assertEquals(bad.size(), end.getLong("rowsSkipped"), "rows skipped");
    assertEquals(shape.size(), end.getLong("bytesDone"), "bytes done");
    assertEquals(100.0, end.getDouble("percent"));
    List<List<String>> columns = new ArrayList<>();
    for (int i = 0; i < shape.names().size(); i++) {
      // With no good row at all, no value tells a type: every column is text.
      String type = shape.good().isEmpty() ? "text" : shape.types().get(i).sql;
      columns.add(List.of(shape.names().get(i), type));
    }
    assertEquals(columns, Db.columns("public." + table), "columns and their inferred types");
    if (shape.good().isEmpty()) {
      assertEquals(0, Db.count("SELECT count(*) FROM public." + table), "no row to import");
    } else {
      Db.assertSameRows(reference, "public." + table);
    }
    assertRejects(id, shape.listedRejects());
    assertFalse(Db.tableExists("tsm." + staging(id)), "no staging table left");
    return "COMPLETED with " + end.getLong("rowsDone") + " rows, " + bad.size() + " set aside";
  }

  /**
   * The rejects name exactly the bad lines (the first ones, up to tsm.import.max-stored-rejects),
   * each for its reason.
   */
  private void assertRejects(String id, List<CsvShape.Record> bad) {
    List<List<String>> rejects =
        CsvText.parse(
            Auth.given()
                .get("/tasks/" + id + "/rejects")
                .then()
                .statusCode(200)
                .extract()
                .asString());
    assertEquals(List.of("line", "reason", "record"), rejects.get(0), "rejects header");
    List<Long> lines = rejects.stream().skip(1).map(r -> Long.parseLong(r.get(0))).toList();
    assertEquals(bad.stream().map(CsvShape.Record::line).toList(), lines, "rejected lines");
    for (int i = 0; i < bad.size(); i++) {
      String reason = rejects.get(i + 1).get(1);
      assertReason(bad.get(i), reason);
    }
  }

  private void assertReason(CsvShape.Record r, String reason) {
    int width = shape.names().size();
    List<String> words =
        switch (r.bad()) {
          // "expected 7 fields, found 6", or over the column limit "more than 50 fields"
          case RAGGED -> List.of(width + " fields");
          case INVALID_UTF8 -> List.of("UTF-8");
          case NUL -> List.of("NUL");
          case FIELD_TOO_LONG -> List.of("over the limit");
          case MISFIT -> List.of("column " + r.column() + ":");
          // PostgreSQL's own reason, which depends on where the carriage return falls.
          case BARE_CR -> List.of();
          case END_MARKER -> width == 1 ? List.of("COPY data") : List.of("expected");
          case UNCLOSED_QUOTE -> List.of("never closed");
        };
    Problems.assertMentions("line " + r.line() + " (" + r.bad() + "): " + reason, words);
  }

  private String failed(String id, JsonPath end) throws IOException {
    String error = end.getString("error");
    assertEquals(
        "FAILED", end.getString("state"), "expected to fail at line " + expected.failLine());
    Problems.assertMentions(error, List.of("line " + expected.failLine() + ":"));
    if (shape.skip()) {
      Problems.assertMentions(error, List.of("more than " + shape.maxErrors() + " bad rows"));
    }
    long rows = end.getLong("rowsDone");
    assertEquals(rows, stagedRows(id), "committed rows are the checkpoint's");
    assertTrue(
        rows <= expected.goodBefore(),
        rows
            + " rows committed, but only "
            + expected.goodBefore()
            + " are before line "
            + expected.failLine());
    String prefix = "ref_" + table;
    loadReference(shape, prefix, (int) rows);
    Db.assertSameRows(prefix, "tsm." + staging(id));
    assertFalse(Db.tableExists("public." + table), "a failed import publishes nothing");

    Api.command(id, "resume").then().statusCode(202);
    JsonPath again = Api.awaitState(id, END_WAIT, "COMPLETED", "FAILED", "TERMINATED");
    assertEquals("FAILED", again.getString("state"), "resumed, it fails again");
    assertEquals(error, again.getString("error"), "at the same line");
    assertEquals(rows, again.getLong("rowsDone"), "with the same rows committed");
    Api.command(id, "terminate").then().statusCode(202);
    Api.awaitState(id, Duration.ofSeconds(30), "TERMINATED");
    assertFalse(Db.tableExists("tsm." + staging(id)), "terminated: no staging table");
    return "FAILED at line " + expected.failLine() + " with " + rows + " rows committed";
  }

  private static String staging(String id) {
    return Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
  }

  private static long stagedRows(String id) {
    return Db.count("SELECT count(*) FROM tsm." + staging(id));
  }

  /** A table name of the case: its family and seed. */
  static String baseName(CsvShape shape) {
    String seed = shape.id().substring(shape.id().lastIndexOf('/') + 1);
    String prefix = shape.id().startsWith("random/") ? "r_" : "";
    return prefix
        + shape.family().replace('-', '_')
        + "_"
        + Long.toString(Long.parseLong(seed) & 0xFFFFFFFFL, 36);
  }

  /** {@code psql \copy} of the first {@code rows} good rows into a new table of the right types. */
  static void loadReference(CsvShape shape, String table, int rows) {
    Path file = CsvFiles.write("explore-" + table + ".csv", shape.goodFile(rows));
    Db.execute("DROP TABLE IF EXISTS " + table);
    Db.execute(shape.createTable(table));
    Db.psql(
        "\\copy "
            + table
            + " FROM '"
            + file.toAbsolutePath()
            + "' WITH (FORMAT csv"
            + shape.copyOptions()
            + ")");
    try {
      Files.delete(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** RFC 4180 text (the rejects list) into rows of fields. */
  private static final class CsvText {
    private CsvText() {}

    static List<List<String>> parse(String text) {
      List<List<String>> rows = new ArrayList<>();
      List<String> row = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      boolean quoted = false;
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (quoted) {
          if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
            field.append('"');
            i++;
          } else if (c == '"') {
            quoted = false;
          } else {
            field.append(c);
          }
        } else if (c == '"') {
          quoted = true;
        } else if (c == ',') {
          row.add(field.toString());
          field.setLength(0);
        } else if (c == '\n') {
          row.add(field.toString());
          field.setLength(0);
          rows.add(row);
          row = new ArrayList<>();
        } else {
          field.append(c);
        }
      }
      if (field.length() > 0 || !row.isEmpty()) {
        row.add(field.toString());
        rows.add(row);
      }
      return rows;
    }
  }
}
