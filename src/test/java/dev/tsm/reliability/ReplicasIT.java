package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Auth;
import dev.tsm.support.BoundedTusClient;
import dev.tsm.support.CuttingProxy;
import dev.tsm.support.Db;
import dev.tsm.support.EventStream;
import dev.tsm.support.ItDatabase;
import dev.tsm.support.ItFixture;
import dev.tsm.support.ServiceProcess;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.TaskTable;
import dev.tsm.support.Waits;
import io.restassured.path.json.JsonPath;
import io.tus.java.client.ProtocolException;
import io.tus.java.client.TusClient;
import io.tus.java.client.TusURLMemoryStore;
import io.tus.java.client.TusUpload;
import io.tus.java.client.TusUploader;
import java.io.IOException;
import java.net.URL;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two instances, A and B, on one database and one storage folder: commands through either act on a
 * task the other runs; a dead, frozen or stopping owner's task is taken over by the other and still
 * completes exactly once.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasIT {
  private static final int ROWS = 200_000;
  private static final int BATCH_ROWS = 2000;
  private static final Duration LEASE = Duration.ofSeconds(2);

  @RegisterExtension static final ItFixture it = new ItFixture("ReplicasIT");

  private static ItDatabase db;
  private static TaskTable tasks;
  private static Path file;

  @BeforeAll
  static void setUp() {
    db = it.db();
    tasks = it.tasks();
    file = ItDatabase.csv("replicas-200k.csv", ROWS, 7);
  }

  /** Batches of 2,000 rows and 50 ms after each: an import of 200,000 rows runs a few seconds. */
  private static Map<String, String> paced(String... more) {
    Map<String, String> env =
        db.serviceEnv(
            "TSM_RUNNER_THROTTLE", "50ms", "TSM_IMPORT_BATCH_ROWS", Integer.toString(BATCH_ROWS));
    return ServiceProcess.env(env, more);
  }

  /** Both started side by side (they migrate the schema once between them), then both ready. */
  private static ServiceProcess[] startBoth(String a, String b, Map<String, String> env) {
    ServiceProcess first = ServiceProcess.start(a, env);
    ServiceProcess second = ServiceProcess.start(b, env);
    try {
      first.awaitReady(Duration.ofSeconds(90));
      second.awaitReady(Duration.ofSeconds(90));
    } catch (RuntimeException | Error e) {
      first.close();
      second.close();
      throw e;
    }
    return new ServiceProcess[] {first, second};
  }

  @Test
  @Order(1)
  void pauseResumeWatchAndTakeOverAcrossReplicas() {
    ServiceProcess[] both = startBoth("replicas-A", "replicas-B", paced());
    try (ServiceProcess a = both[0];
        ServiceProcess b = both[1]) {
      String id = a.startImport("rep_moved", file);
      tasks.awaitOwner(id, Duration.ofSeconds(30), a);

      try (EventStream events = EventStream.open(b, "/tasks/" + id + "/events")) {
        EventStream.Event snapshot = events.next(Duration.ofSeconds(10));
        assertNotNull(snapshot, "a snapshot event first");
        assertEquals(id, snapshot.json().getString("id"), "the snapshot is the task");
        assertTrue(
            List.of("PENDING", "RUNNING").contains(snapshot.state()), "snapshot: " + snapshot);

        tasks.awaitRows(id, Duration.ofSeconds(60), 20_000);
        Pause viaB = pause(b, id, "B", "A");
        events.until(Duration.ofSeconds(10), "PAUSED", e -> "PAUSED".equals(e.state()));

        HttpResponse<String> resume = b.command(id, "resume");
        assertTrue(resume.statusCode() / 100 == 2, "resume via B: " + resume.body());
        TaskTable.Row running = awaitRunning(id);
        String claimedBy = a.owns(running.owner()) ? "A" : b.owns(running.owner()) ? "B" : "?";
        System.out.printf(
            "[ReplicasIT] resumed through B from row %d; claimed by %s%n",
            running.rowsDone(), claimedBy);
        // B's resume dispatches on B, so B usually claims the task itself. The crash below needs A
        // to own it: hand it back with a pause and a resume through A (measured as well).
        for (int i = 0; i < 3 && !a.owns(running.owner()); i++) {
          tasks.awaitRows(id, Duration.ofSeconds(60), running.rowsDone() + 10_000);
          pause(a, id, "A", "B");
          HttpResponse<String> back = a.command(id, "resume");
          assertTrue(back.statusCode() / 100 == 2, "resume via A: " + back.body());
          running = awaitRunning(id);
        }
        assertTrue(a.owns(running.owner()), "A runs the task again: " + running);

        // B's stream shows the progress A makes.
        long resumedAt = running.rowsDone();
        events.until(
            Duration.ofSeconds(30),
            "progress past row " + (resumedAt + 10_000),
            e -> "RUNNING".equals(e.state()) && e.rowsDone() >= resumedAt + 10_000);

        TaskTable.Row beforeKill = tasks.row(id);
        a.kill();
        long killedAt = System.nanoTime();
        TaskTable.Row taken = tasks.awaitOwner(id, Duration.ofSeconds(30), b);
        Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
        System.out.printf(
            "[ReplicasIT] TAKEOVER after kill -9 of A: B runs the task %d ms after the kill (lease"
                + " %d ms, poll 1000 ms), from row %d (A was at row %d)%n",
            takeover.toMillis(), LEASE.toMillis(), taken.rowsDone(), beforeKill.rowsDone());
        assertTrue(
            takeover.compareTo(LEASE.plusSeconds(3)) < 0,
            "B takes over within the lease and a poll or two: " + takeover);

        events.until(Duration.ofSeconds(120), "COMPLETED", e -> "COMPLETED".equals(e.state()));
        assertTrue(events.ends(Duration.ofSeconds(10)), "the stream ends after COMPLETED");
        checkProgress(events.seen());
        assertTrue(b.readyStatus() == 200, "B keeps serving");
        System.out.printf(
            "[ReplicasIT] pause latency through the other replica: via B %d ms (%d rows after the"
                + " answer)%n",
            viaB.latency().toMillis(), viaB.rowsAfterAnswer());
      }
      tasks.awaitState(id, Duration.ofSeconds(30), "COMPLETED");
    }
    assertSameAsReference("rep_moved");
  }

  @Test
  @Order(2)
  void aFrozenOwnerCommitsNothingAfterItsTaskWasTakenOver() {
    Map<String, String> env = paced();
    String id;
    try (ServiceProcess a = ServiceProcess.startReady("fenced-A", env)) {
      id = a.startImport("rep_fenced", file);
      tasks.awaitOwner(id, Duration.ofSeconds(30), a);
      tasks.awaitRows(id, Duration.ofSeconds(60), 30_000);
      freezeMidBatch(a, id);
      long frozenAt = System.nanoTime();
      TaskTable.Row atFreeze = tasks.row(id);
      System.out.printf(
          "[ReplicasIT] froze A (kill -STOP) in the middle of a batch, at row %d: %s%n",
          atFreeze.rowsDone(), atFreeze);
      try (ServiceProcess b = ServiceProcess.startReady("fenced-B", env)) {
        TaskTable.Row taken = tasks.awaitOwner(id, Duration.ofSeconds(30), b);
        System.out.printf(
            "[ReplicasIT] TAKEOVER from frozen A: B runs the task %d ms after the freeze (B"
                + " started in %d ms), from row %d%n",
            (System.nanoTime() - frozenAt) / 1_000_000,
            b.startupTime().toMillis(),
            taken.rowsDone());
        TaskTable.Row done = awaitCompletedOrExplain(id, Duration.ofSeconds(45));
        System.out.printf(
            "[ReplicasIT] B completed the task while A was frozen: %s%n", done.rowsDone());
        a.thaw();
        long thawedAt = System.nanoTime();
        // A wakes up mid-run: whatever it had in flight must fail its fenced checkpoint.
        Waits.until(
            Duration.ofSeconds(20),
            "A notices it lost the task",
            () -> a.log().contains("no longer owned") || a.log().contains("lost to"));
        System.out.printf(
            "[ReplicasIT] A, thawed, noticed the loss after %d ms: %s%n",
            (System.nanoTime() - thawedAt) / 1_000_000,
            a.log().lines().filter(l -> l.contains(id)).reduce((x, y) -> y).orElse("(nothing)"));
        System.out.printf(
            "[ReplicasIT] B had to end A's sessions to complete: %s%n",
            b.log().contains("staging table was still held"));
        assertEquals(200, a.readyStatus(), "A keeps serving after its thaw");
        TaskTable.Row after = tasks.row(id);
        assertEquals("COMPLETED", after.state(), "A changed nothing: " + after);
        assertEquals(ROWS, after.rowsDone());
      }
    }
    assertSameAsReference("rep_fenced");
  }

  @Test
  @Order(3)
  void aStoppingOwnerHandsItsTaskOverAtOnce() {
    // A long lease: the hand-over must not wait for it.
    Duration lease = Duration.ofSeconds(15);
    Duration drain = Duration.ofSeconds(10);
    Map<String, String> env =
        paced(
            "TSM_RUNNER_LEASE",
            lease.toSeconds() + "s",
            "TSM_RUNNER_DRAIN_TIMEOUT",
            drain.toSeconds() + "s");
    ServiceProcess[] both = startBoth("drained-A", "drained-B", env);
    String id;
    try (ServiceProcess a = both[0];
        ServiceProcess b = both[1]) {
      id = a.startImport("rep_drained", file);
      tasks.awaitOwner(id, Duration.ofSeconds(30), a);
      tasks.awaitRows(id, Duration.ofSeconds(60), 20_000);
      long stopAt = System.nanoTime();
      Duration exit = a.terminate(drain.plusSeconds(20));
      TaskTable.Row afterExit = tasks.row(id);
      System.out.printf(
          "[ReplicasIT] SIGTERM to A: exited (%d) after %d ms; the task is then %s%n",
          a.exitValue(), exit.toMillis(), afterExit);
      assertTrue(exit.compareTo(drain) < 0, "A exits within the drain timeout: " + exit);
      assertFalse(
          afterExit.is("RUNNING") && a.owns(afterExit.owner()),
          "A gave the task back before exiting: " + afterExit);
      // RunEnds logs a run's end in the words of Run.Result: HANDED_BACK.
      assertTrue(a.log().contains("run ended (handed back)"), "A's log: " + a.tail(20));
      TaskTable.Row taken = tasks.awaitOwner(id, Duration.ofSeconds(10), b);
      Duration handover = Duration.ofNanos(System.nanoTime() - stopAt);
      System.out.printf(
          "[ReplicasIT] HANDOVER on SIGTERM: B runs the task %d ms after the SIGTERM to A (lease %d"
              + " ms), from row %d%n",
          handover.toMillis(), lease.toMillis(), taken.rowsDone());
      assertTrue(
          handover.compareTo(lease.dividedBy(3)) < 0,
          "B resumes the task well before the lease would have expired: " + handover);
      tasks.awaitState(id, Duration.ofSeconds(120), "COMPLETED");
    }
    assertSameAsReference("rep_drained");
  }

  @Test
  @Order(4)
  void batchesSlowerThanTheLeaseKeepTheirOwner() {
    // 3 s between checkpoints with a 2 s lease: only the 1 s tick can keep the lease alive.
    Path small = ItDatabase.csv("replicas-12k.csv", 12_000, 5);
    Map<String, String> env =
        db.serviceEnv(
            "TSM_RUNNER_THROTTLE", "3s", "TSM_IMPORT_BATCH_ROWS", Integer.toString(BATCH_ROWS));
    ServiceProcess[] both = startBoth("slow-A", "slow-B", env);
    try (ServiceProcess a = both[0];
        ServiceProcess b = both[1]) {
      String id = a.startImport("rep_slow", small);
      Set<String> owners = new LinkedHashSet<>();
      tasks.await(
          id,
          Duration.ofSeconds(90),
          "COMPLETED",
          r -> {
            if (r.owner() != null) {
              owners.add(r.owner());
            }
            return r.is("COMPLETED");
          },
          r -> r.is("FAILED") || r.is("TERMINATED"));
      List<String> named = new ArrayList<>();
      owners.forEach(o -> named.add(a.owns(o) ? "A " + o : b.owns(o) ? "B " + o : o));
      System.out.printf("[ReplicasIT] owners of the slow import: %s%n", named);
      assertEquals(
          1,
          owners.size(),
          "a healthy owner keeps its task between slow checkpoints (its lease is renewed by the"
              + " tick); owners seen: "
              + named);
      String aLog = a.log();
      assertFalse(
          aLog.contains("no longer owned") || aLog.contains("run ended (lost)"),
          "A never lost the task");
    }
    Db.copyReference("rep_slow_ref", "public.rep_slow", small, ", HEADER true");
    Db.assertSameRows("rep_slow_ref", "public.rep_slow");
  }

  @Test
  @Order(5)
  void anUploadCutOffByItsInstanceDyingIsLeftAloneThenFailedClearly() throws Exception {
    ServiceProcess[] both = startBoth("upload-A", "upload-B", paced());
    try (ServiceProcess a = both[0];
        ServiceProcess b = both[1]) {
      byte[] body = Files.readAllBytes(file);
      SlowUpload upload = SlowUpload.start(a.port(), "table=rep_upload_lost", body);
      upload.send(body.length * 2 / 5);
      String id = Db.awaitTaskOf("rep_upload_lost");
      TaskTable.Row running = tasks.awaitRows(id, Duration.ofSeconds(30), 1);
      assertTrue(a.owns(running.owner()), "A, receiving the body, runs the task: " + running);
      a.kill();
      upload.close();
      long killedAt = System.nanoTime();

      // B may not follow a file it does not receive; once A's hold has run out, the upload is
      // known lost and B says so, keeping what was committed for nobody to resume by mistake.
      TaskTable.Row failed = tasks.awaitState(id, Duration.ofSeconds(60), "FAILED");
      Duration after = Duration.ofNanos(System.nanoTime() - killedAt);
      System.out.printf(
          "[ReplicasIT] UPLOAD LOST: A killed -9 mid-body; FAILED via B %d ms later (lease %d ms):"
              + " %s%n",
          after.toMillis(), LEASE.toMillis(), failed.error());
      // A renewed its hold (a lease long) at most one poll interval (1 s) before it died.
      assertTrue(
          after.compareTo(LEASE.minusSeconds(1)) >= 0, "B left the task alone while A's hold held");
      assertTrue(failed.error().contains("did not complete"), failed.error());
      assertTrue(b.log().contains(id), "B took the task up: " + b.tail(20));

      assertEquals(202, b.command(id, "terminate").statusCode());
      tasks.awaitState(id, Duration.ofSeconds(30), "TERMINATED");
      assertFalse(Db.tableExists("public.rep_upload_lost"));
      String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
      assertFalse(Db.tableExists("tsm." + staging), "no staging table");
    }
  }

  @Test
  @Order(6)
  void ownershipHoldsAcrossReplicas() throws Exception {
    ServiceProcess[] both = startBoth("owners-A", "owners-B", paced());
    try (ServiceProcess a = both[0];
        ServiceProcess b = both[1]) {
      HttpResponse<String> created =
          a.as(
              Auth.ALICE,
              "POST",
              "/imports?table=owned_by_alice",
              "text/csv",
              HttpRequest.BodyPublishers.ofFile(file));
      assertEquals(202, created.statusCode(), created.body());
      String id = JsonPath.from(created.body()).getString("id");
      // Through the other replica, bob finds nothing of it, and cannot touch it.
      for (String[] call :
          List.of(
              new String[] {"GET", "/tasks/" + id},
              new String[] {"POST", "/tasks/" + id + "/pause"},
              new String[] {"POST", "/tasks/" + id + "/terminate"},
              new String[] {"GET", "/upload/progress?taskId=" + id})) {
        HttpResponse<String> r = b.as(Auth.BOB, call[0], call[1]);
        assertEquals(404, r.statusCode(), call[0] + " " + call[1] + " as bob: " + r.body());
      }
      assertFalse(b.as(Auth.BOB, "GET", "/tasks").body().contains(id), "bob's list on B");
      // The owner commands it through the other replica.
      HttpResponse<String> pause = b.as(Auth.ALICE, "POST", "/tasks/" + id + "/pause");
      assertEquals(202, pause.statusCode(), pause.body());
      Waits.until(
          Duration.ofSeconds(60),
          "the task PAUSED",
          () ->
              "PAUSED"
                  .equals(
                      JsonPath.from(a.as(Auth.ALICE, "GET", "/tasks/" + id).body())
                          .getString("state")));
      JsonPath seen = JsonPath.from(b.as(Auth.ALICE, "GET", "/tasks/" + id).body());
      assertEquals("alice", seen.getString("createdBy"));
      assertEquals("alice", seen.getString("lastCommand.by"));
      assertEquals(202, a.as(Auth.ALICE, "POST", "/tasks/" + id + "/terminate").statusCode());
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private record Pause(Duration latency, long rowsAfterAnswer) {}

  /**
   * Pauses through {@code via}; measures the time from the request to PAUSED, and the rows the
   * owner committed after the request was answered (when the pause request is recorded).
   */
  private static Pause pause(ServiceProcess via, String id, String viaName, String ownerName) {
    long start = System.nanoTime();
    HttpResponse<String> r = via.command(id, "pause");
    long answered = System.nanoTime();
    TaskTable.Row atAnswer = tasks.row(id);
    assertEquals(202, r.statusCode(), "pause via " + viaName + ": " + r.body());
    TaskTable.Row paused = tasks.awaitState(id, Duration.ofSeconds(10), "PAUSED");
    Duration latency = Duration.ofNanos(System.nanoTime() - start);
    long rowsAfter = paused.rowsDone() - atAnswer.rowsDone();
    System.out.printf(
        "[ReplicasIT] PAUSE LATENCY via %s of a task %s runs: PAUSED %d ms after the request"
            + " (answered 202 in %d ms); %d rows (%.1f batches of %d) committed after the"
            + " answer; paused at row %d%n",
        viaName,
        ownerName,
        latency.toMillis(),
        (answered - start) / 1_000_000,
        rowsAfter,
        rowsAfter / (double) BATCH_ROWS,
        BATCH_ROWS,
        paused.rowsDone());
    // The owner stops at its next checkpoint; the batch copied beside it (parallelism 2) may
    // still commit: at most two batches once the request is recorded.
    assertTrue(
        rowsAfter <= 2L * BATCH_ROWS, "the pause takes effect within about a batch: " + rowsAfter);
    assertTrue(latency.compareTo(Duration.ofSeconds(2)) < 0, "pause latency " + latency);
    return new Pause(latency, rowsAfter);
  }

  private static TaskTable.Row awaitRunning(String id) {
    return tasks.await(
        id,
        Duration.ofSeconds(30),
        "RUNNING",
        r -> r.is("RUNNING") && r.owner() != null,
        r -> r.isFinal() || r.is("FAILED"));
  }

  /** B's stream: progress events while the task ran, rows never going back, COMPLETED last. */
  private static void checkProgress(List<EventStream.Event> events) {
    long progress = events.stream().filter(e -> "progress".equals(e.name())).count();
    System.out.printf(
        "[ReplicasIT] B's event stream: %d events (%d progress), states %s%n",
        events.size(),
        progress,
        events.stream().filter(e -> "state".equals(e.name())).map(e -> e.state()).toList());
    assertTrue(progress >= 3, "progress events: " + events);
    long rows = -1;
    for (EventStream.Event e : events) {
      assertTrue(e.rowsDone() >= rows, "rows never go back: " + events);
      rows = e.rowsDone();
    }
    assertEquals("COMPLETED", events.get(events.size() - 1).state(), "the last event");
    assertEquals(ROWS, events.get(events.size() - 1).rowsDone());
  }

  /**
   * Freezes {@code instance} while a batch of the task is in flight: its transaction open, holding
   * the staging table (the case fencing exists for: a batch that wakes up after the takeover).
   */
  private static void freezeMidBatch(ServiceProcess instance, String id) {
    String staging =
        "tsm." + Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    String held =
        "SELECT count(*) FROM pg_locks WHERE relation = to_regclass('" + staging + "') AND granted";
    for (int attempt = 1; attempt <= 200; attempt++) {
      if (Db.count(held) > 0) {
        instance.freeze();
        // Frozen, the process cannot end its transaction: is it still open?
        if (Db.count(held) > 0) {
          System.out.printf(
              "[ReplicasIT] %s frozen with a batch in flight (attempt %d); its sessions: %s%n",
              instance.name(),
              attempt,
              Db.rows(
                  "SELECT state, left(query, 30) FROM pg_stat_activity WHERE pid IN (SELECT pid"
                      + " FROM pg_locks WHERE relation = to_regclass('"
                      + staging
                      + "') AND granted)"));
          return;
        }
        instance.thaw();
      }
      Waits.pause(3); // the spacing of a tight poll for a batch in flight
    }
    throw new AssertionError("could not freeze " + instance.name() + " in the middle of a batch");
  }

  /**
   * Waits for COMPLETED; on a timeout, says what the database sessions were waiting for (a frozen
   * process can hold a lock the new owner needs).
   */
  private static TaskTable.Row awaitCompletedOrExplain(String id, Duration atMost) {
    try {
      return tasks.awaitState(id, atMost, "COMPLETED");
    } catch (AssertionError e) {
      List<List<String>> sessions =
          Db.rows(
              "SELECT pid, state, wait_event_type, wait_event, left(query, 120),"
                  + " now() - xact_start FROM pg_stat_activity WHERE datname = current_database()"
                  + " AND pid <> pg_backend_pid()");
      throw new AssertionError(e.getMessage() + "\nsessions: " + sessions, e);
    }
  }

  @Test
  @Order(7)
  void aResumableUploadMovesBetweenReplicasThroughCutsAndAKill() throws Exception {
    // Writers that die are replaced within a couple of seconds; the client keeps going.
    Map<String, String> env = paced("TSM_UPLOAD_WRITER_LEASE", "2s");
    ServiceProcess[] both = startBoth("tus-A", "tus-B", env);
    try (ServiceProcess a = both[0];
        ServiceProcess b = both[1];
        CuttingProxy toA = new CuttingProxy(a.port(), 31, 3, 3 << 20);
        CuttingProxy toB = new CuttingProxy(b.port(), 32, 3, 3 << 20)) {
      TusURLMemoryStore urls = new TusURLMemoryStore();
      TusUpload upload = new TusUpload(file.toFile());
      upload.setFingerprint("rep_tus");
      upload.setMetadata(Map.of("table", "rep_tus", "filename", "replicas-200k.csv"));
      long size = Files.size(file);
      Set<Integer> portsUsed = new LinkedHashSet<>();
      boolean killed = false;
      boolean done = false;
      for (int turn = 0; turn < 200 && !done; turn++) {
        // Each turn goes through the other replica (only B once A is dead).
        CuttingProxy proxy = killed || turn % 2 == 1 ? toB : toA;
        TusClient client = new BoundedTusClient();
        client.setUploadCreationURL(new URL("http://127.0.0.1:" + proxy.port() + "/uploads"));
        client.enableResuming(urls);
        client.setHeaders(Map.of("Authorization", Auth.bearer(ServiceProcess.KEY)));
        URL known = urls.get(upload.getFingerprint());
        if (known != null) {
          urls.set(
              upload.getFingerprint(),
              new URL("http://127.0.0.1:" + proxy.port() + known.getPath()));
        }
        try {
          TusUploader uploader = client.resumeOrCreateUpload(upload);
          uploader.setRequestPayloadSize(1 << 20);
          portsUsed.add(proxy.port());
          for (int chunk = 0; chunk < 2; chunk++) {
            if (uploader.uploadChunk() == -1) {
              uploader.finish();
              done = true;
              break;
            }
          }
          if (!killed && uploader.getOffset() > size / 2) {
            a.kill(); // mid-upload, and A may be running the import
            killed = true;
          }
        } catch (IOException | ProtocolException e) {
          System.out.printf("[ReplicasIT] tus turn %d: %s%n", turn, e);
        }
      }
      assertTrue(done, "the upload finished");
      assertTrue(killed, "A was killed mid-upload");
      assertEquals(2, portsUsed.size(), "both replicas took bytes");
      assertTrue(toA.cuts() + toB.cuts() >= 3, "connections were cut");
      String id = Db.awaitTaskOf("rep_tus");
      tasks.awaitState(id, Duration.ofSeconds(180), "COMPLETED");
      System.out.printf(
          "[ReplicasIT] resumable upload through both replicas, %d cuts, A killed: completed%n",
          toA.cuts() + toB.cuts());
    }
    assertSameAsReference("rep_tus");
  }

  private static void assertSameAsReference(String table) {
    Db.copyReference(table + "_ref", "public." + table, file, ", HEADER true");
    Db.assertSameRows(table + "_ref", "public." + table);
  }
}
