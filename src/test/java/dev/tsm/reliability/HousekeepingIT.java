package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Db;
import dev.tsm.support.ItDatabase;
import dev.tsm.support.ItFixture;
import dev.tsm.support.ServiceProcess;
import dev.tsm.support.TaskTable;
import dev.tsm.support.Waits;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged service against what outlives a process: a task whose runs keep ending with their
 * instance (kill -9 mid-import, {@value #MAX_CRASHES} times) ends FAILED with the reason instead of
 * being taken over again, and runs again on resume; and what a crash leaves behind is swept when an
 * instance starts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HousekeepingIT {
  private static final int MAX_CRASHES = 3;
  private static final Duration WAIT = Duration.ofSeconds(60);

  @RegisterExtension static final ItFixture it = new ItFixture("HousekeepingIT");

  private static ItDatabase db;
  private static TaskTable tasks;

  @BeforeAll
  static void setUp() {
    db = it.db();
    tasks = it.tasks();
  }

  /** Small batches with a pause after each: no life of the service is long enough to finish. */
  private static Map<String, String> env() {
    return db.serviceEnv(
        "TSM_IMPORT_BATCH_ROWS",
        "5000",
        "TSM_RUNNER_THROTTLE",
        "200ms",
        "TSM_RUNNER_MAX_CRASHES",
        Integer.toString(MAX_CRASHES));
  }

  @Test
  @Order(1)
  void taskThatKeepsEndingItsInstanceFailsThenRunsAgainOnResume() {
    Path file = ItDatabase.csv("crash-100k.csv", 100_000, 11);
    ServiceProcess owner = ServiceProcess.startReady("poison", env());
    String id = owner.startImport("poison_import", file);
    List<String> killed = new ArrayList<>();
    try {
      for (int crash = 1; crash <= MAX_CRASHES; crash++) {
        TaskTable.Row claimed = tasks.awaitOwner(id, WAIT, owner);
        assertEquals(crash - 1, crashes(id), "each takeover after a kill counts");
        // Killed mid-import: once this life committed a batch of its own.
        TaskTable.Row running = tasks.awaitRows(id, WAIT, claimed.rowsDone() + 1);
        owner.kill();
        killed.add(owner.instanceId());
        System.out.printf(
            "[HousekeepingIT] kill #%d of the owner of %s at row %d%n",
            crash, id, tasks.row(id).rowsDone());
        assertTrue(running.rowsDone() < 100_000, "killed mid-import: " + running);
        owner = ServiceProcess.startReady("poison", env());
      }
      TaskTable.Row failed = tasks.awaitState(id, WAIT, "FAILED");
      System.out.printf("[HousekeepingIT] after %d kills: %s%n", MAX_CRASHES, failed);
      assertNull(failed.owner(), "nobody runs it");
      assertTrue(failed.error().contains(MAX_CRASHES + " times"), failed.error());
      assertTrue(failed.error().contains("tsm.runner.max-crashes"), failed.error());
      assertTrue(failed.error().contains("resume"), failed.error());
      assertEquals(MAX_CRASHES, crashes(id));
      assertTrue(failed.rowsDone() < 100_000, "it did not run to its end: " + failed);
      assertEquals(1, Db.stagingTables().size(), "a FAILED task keeps its staging table");
      // The instance logs it once its claim returned, a moment after the FAILED row commits.
      ServiceProcess refusing = owner;
      Waits.until(
          Duration.ofSeconds(10),
          "the instance that refused it says so",
          () ->
              refusing
                  .log()
                  .contains("task " + id + " failed: the instance running this task stopped"));
      // Still FAILED after the next instance's polls: it is not taken over again.
      Waits.holdsFor(Duration.ofSeconds(3), () -> assertEquals("FAILED", tasks.row(id).state()));

      HttpResponse<String> resume = owner.command(id, "resume");
      assertEquals(202, resume.statusCode(), resume.body());
      assertEquals(0, crashes(id), "a resume starts the count afresh");
      tasks.awaitState(id, Duration.ofMinutes(3), "COMPLETED");
      assertFalse(killed.contains(owner.instanceId()));
    } finally {
      owner.close();
    }
    Db.copyReference("poison_import_ref", "public.poison_import", file, ", HEADER true");
    Db.assertSameRows("poison_import_ref", "public.poison_import");
    assertEquals(0, Db.stagingTables().size(), "staging table published");
  }

  @Test
  @Order(2)
  void whatACrashLeftIsSweptAtStart() throws IOException {
    Map<String, String> env = db.serviceEnv("TSM_RETENTION_SWEEP_INTERVAL", "1h");
    // An instance that made the schema and died: what follows is left for the next one.
    ServiceProcess.startReady("sweep", env).kill();
    Path imports = Files.createDirectories(db.storage().resolve("imports"));
    Path exports = Files.createDirectories(db.storage().resolve("exports"));
    Path orphanImport = plant(imports.resolve(UUID.randomUUID() + ".csv"), true);
    Path orphanPart = plant(exports.resolve(UUID.randomUUID() + ".csv.part"), true);
    Path orphanExport = plant(exports.resolve(UUID.randomUUID() + ".csv"), true);
    Path arriving = plant(imports.resolve(UUID.randomUUID() + ".csv"), false);
    String table = "import_" + UUID.randomUUID().toString().replace("-", "");
    Db.execute("CREATE TABLE tsm." + table + " (a text)");

    // A sweep an hour from now at the earliest: only the one at start can do this.
    try (ServiceProcess svc = ServiceProcess.startReady("sweep", env)) {
      try {
        // Its summary is logged once the whole sweep is done, after the removals.
        Waits.until(
            WAIT,
            "swept at start",
            () ->
                Files.notExists(orphanImport)
                    && !Db.tableExists("tsm." + table)
                    && svc.log().contains("retention sweep: "));
      } catch (RuntimeException e) {
        throw new AssertionError("not swept at start:\n" + svc.tail(30), e);
      }
      assertFalse(Files.exists(orphanPart));
      assertFalse(Files.exists(orphanExport));
      assertTrue(Files.exists(arriving), "a body within its grace period stays");
    }
  }

  private static int crashes(String id) {
    return (int) Db.count("SELECT crashes FROM tsm.task WHERE id = '" + id + "'");
  }

  /** A file last written two hours ago ({@code old}: past the default grace of an hour) or now. */
  private static Path plant(Path file, boolean old) throws IOException {
    Files.writeString(file, "a,b\n1,2\n");
    if (old) {
      Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
    }
    return file;
  }
}
