package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tsm.support.Db;
import dev.tsm.support.EventStream;
import dev.tsm.support.ItDatabase;
import dev.tsm.support.ItFixture;
import dev.tsm.support.ServiceProcess;
import dev.tsm.support.TaskTable;
import dev.tsm.support.Waits;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The database restarted under a running import, and a staged file lost: the service says what is
 * wrong (readiness DOWN, a FAILED task with a reason), hangs nowhere, and the import still
 * completes exactly once.
 *
 * <p>Restarts the PostgreSQL cluster that serves the test database (found with {@code
 * pg_lsclusters} by its port: {@code main} on 5432), so it needs a local Debian cluster and root;
 * skipped otherwise. Point it at a cluster of its own with {@code TSM_TEST_PGPORT} to spare other
 * users of the shared one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DatabaseRestartIT {
  @RegisterExtension static final ItFixture it = new ItFixture("DatabaseRestartIT");

  private static ItDatabase db;
  private static TaskTable tasks;
  private static String[] cluster; // version, name

  @BeforeAll
  static void setUp() {
    assumeTrue(Files.isDirectory(Path.of("/etc/postgresql")), "no local PostgreSQL cluster");
    db = it.db();
    tasks = it.tasks();
    cluster = clusterOnPort(db.pg().port());
    assumeTrue(cluster != null, "no local cluster listens on port " + db.pg().port());
    System.out.printf(
        "[DatabaseRestartIT] restarts cluster %s/%s (port %d)%n",
        cluster[0], cluster[1], db.pg().port());
  }

  @Test
  @Order(1)
  void databaseRestartMidImport() {
    Path file = ItDatabase.csv("restart-300k.csv", 300_000, 13);
    Map<String, String> env =
        db.serviceEnv("TSM_RUNNER_THROTTLE", "200ms", "TSM_IMPORT_BATCH_ROWS", "5000");
    try (ServiceProcess svc = ServiceProcess.startReady("restart-db", env)) {
      String id = svc.startImport("restart_import", file);
      tasks.awaitRows(id, Duration.ofSeconds(60), 30_000);

      long stopAt = System.nanoTime();
      try {
        pgctl("stop"); // "fast": active sessions are cut off
        System.out.printf("[DatabaseRestartIT] PostgreSQL stopped in %d ms%n", millisSince(stopAt));
        Waits.until(Duration.ofSeconds(30), "readiness DOWN", () -> svc.readyStatus() == 503);
        System.out.printf(
            "[DatabaseRestartIT] /q/health/ready answered 503 %d ms after the stop began%n",
            millisSince(stopAt));
        HttpResponse<String> ready = svc.get("/q/health/ready");
        assertTrue(ready.body().contains("DOWN"), "readiness says DOWN: " + ready.body());
        assertEquals(200, svc.get("/q/health/live").statusCode(), "the process itself is live");
        long asked = System.nanoTime();
        HttpResponse<String> task = svc.get("/tasks/" + id);
        System.out.printf(
            "[DatabaseRestartIT] GET /tasks/{id} with the database away: %d in %d ms: %s%n",
            task.statusCode(), millisSince(asked), task.body());
        assertEquals(503, task.statusCode(), "the database is away: 503, " + task.body());
        assertTrue(task.body().contains("database is not available"), task.body());
        HttpResponse<String> list = svc.get("/tasks");
        assertEquals(503, list.statusCode(), "GET /tasks too: " + list.body());
        assertTrue(millisSince(asked) < 15_000, "an API call does not hang on the outage");
        Waits.pause(2000); // the database away a little longer than a lease: no condition
      } finally {
        pgctl("start");
      }
      long startedAt = System.nanoTime();
      System.out.printf(
          "[DatabaseRestartIT] PostgreSQL back %d ms after the stop began%n", millisSince(stopAt));
      Waits.until(Duration.ofSeconds(60), "readiness UP again", () -> svc.readyStatus() == 200);
      System.out.printf(
          "[DatabaseRestartIT] /q/health/ready answered 200 again %d ms after the start%n",
          millisSince(startedAt));

      // Live progress works again too (the LISTEN connection came back).
      try (EventStream events = EventStream.open(svc, "/tasks/" + id + "/events")) {
        EventStream.Event snapshot = events.next(Duration.ofSeconds(10));
        assertNotNull(snapshot, "a snapshot after the restart");
        if (!List.of("COMPLETED", "FAILED").contains(snapshot.state())) {
          EventStream.Event change =
              events.until(
                  Duration.ofSeconds(60),
                  "a change after the restart",
                  e -> e.rowsDone() > snapshot.rowsDone() || !e.state().equals(snapshot.state()));
          System.out.printf(
              "[DatabaseRestartIT] events after the restart: %s, then %s%n", snapshot, change);
        }
      }

      // FAILED with a reason an operator can act on (then resumed), or taken up again by itself.
      List<String> failures = new ArrayList<>();
      TaskTable.Row end;
      while (true) {
        end =
            tasks.await(
                id,
                Duration.ofSeconds(120),
                "COMPLETED or FAILED",
                r -> r.is("COMPLETED") || r.is("FAILED"),
                r -> r.is("TERMINATED"));
        if (end.is("COMPLETED")) {
          break;
        }
        failures.add(end.error());
        System.out.printf(
            "[DatabaseRestartIT] FAILED at row %d: %s -> resume%n", end.rowsDone(), end.error());
        assertTrue(
            end.error() != null && end.error().contains("database"),
            "the error names the database: " + end.error());
        assertTrue(failures.size() <= 3, "resumes keep failing: " + failures);
        HttpResponse<String> resume = svc.command(id, "resume");
        assertTrue(resume.statusCode() / 100 == 2, "resume: " + resume.body());
      }
      System.out.printf(
          "[DatabaseRestartIT] COMPLETED %d ms after the stop began, after %d resume(s)%s%n",
          millisSince(stopAt),
          failures.size(),
          failures.isEmpty() ? " (taken up again by the runner)" : "");
      assertTrue(svc.log().contains("task " + id), "the log names the task: " + svc.tail(20));
    }
    Db.copyReference("restart_import_ref", "public.restart_import", file, ", HEADER true");
    Db.assertSameRows("restart_import_ref", "public.restart_import");
  }

  @Test
  @Order(2)
  void stagedFileDeletedBeforeResume() throws IOException {
    Path file = ItDatabase.csv("restart-50k.csv", 50_000, 17);
    Path small = ItDatabase.csv("restart-1k.csv", 1_000, 19);
    Map<String, String> env =
        db.serviceEnv("TSM_RUNNER_THROTTLE", "100ms", "TSM_IMPORT_BATCH_ROWS", "2000");
    try (ServiceProcess svc = ServiceProcess.startReady("restart-files", env)) {
      String id = svc.startImport("lost_file", file);
      tasks.awaitRows(id, Duration.ofSeconds(60), 6_000);
      assertEquals(202, svc.command(id, "pause").statusCode());
      TaskTable.Row paused = tasks.awaitState(id, Duration.ofSeconds(30), "PAUSED");
      Path staged = db.storage().resolve("imports").resolve(id + ".csv");
      assertTrue(Files.exists(staged), "the staged file is where it should be: " + staged);
      Files.delete(staged);

      HttpResponse<String> resume = svc.command(id, "resume");
      System.out.printf(
          "[DatabaseRestartIT] resume without the staged file: %d %s%n",
          resume.statusCode(), resume.body());
      String error;
      if (resume.statusCode() / 100 == 2) {
        TaskTable.Row failed = tasks.awaitState(id, Duration.ofSeconds(30), "FAILED");
        error = failed.error();
        assertEquals(paused.rowsDone(), failed.rowsDone(), "nothing more was done");
      } else {
        // Refused up front is as good, if it says why.
        assertEquals(409, resume.statusCode(), resume.body());
        error = resume.body();
      }
      System.out.printf("[DatabaseRestartIT] the task says: %s%n", error);
      assertTrue(
          error != null && error.contains("staged file") && error.contains("gone"),
          "the error says the staged file is gone: " + error);

      // The service keeps serving: reads, health, other imports; the broken task can be ended.
      assertEquals(200, svc.readyStatus());
      assertEquals(200, svc.get("/tasks").statusCode());
      String other = svc.startImport("after_lost_file", small);
      tasks.awaitState(other, Duration.ofSeconds(60), "COMPLETED");
      assertEquals(1_000, Db.count("SELECT count(*) FROM after_lost_file"));
      HttpResponse<String> terminate = svc.command(id, "terminate");
      assertTrue(terminate.statusCode() / 100 == 2, "terminate: " + terminate.body());
      tasks.awaitState(id, Duration.ofSeconds(30), "TERMINATED");
      assertTrue(!Db.tableExists("public.lost_file"), "nothing was published");
      assertTrue(
          Db.stagingTables().stream().noneMatch(t -> t.contains(id.replace("-", ""))),
          "its staging table is dropped");
    }
  }

  // ---- the cluster -----------------------------------------------------------------------------

  /** The local cluster (version, name) listening on {@code port}, or null. */
  private static String[] clusterOnPort(int port) {
    String out = run(List.of("pg_lsclusters", "--no-header"), Duration.ofSeconds(30));
    for (String line : out.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[2].equals(Integer.toString(port))) {
        return new String[] {f[0], f[1]};
      }
    }
    return null;
  }

  private static void pgctl(String action, String... options) {
    List<String> command =
        new ArrayList<>(
            List.of("pg_ctlcluster", "--skip-systemctl-redirect", cluster[0], cluster[1], action));
    command.addAll(List.of(options));
    run(command, Duration.ofSeconds(90));
  }

  private static String run(List<String> command, Duration atMost) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!p.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(command + " did not finish within " + atMost);
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new AssertionError(command + " failed (" + p.exitValue() + "): " + out);
      }
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
