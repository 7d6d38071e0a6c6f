package dev.tsm.tus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.TestDatabase;
import dev.tsm.support.Tus;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A request's bytes committed while the upload's import is terminated: the request's commit moves
 * the upload's offset and mirrors it into the task row, the terminate locks the task row and ends
 * the upload. Each takes the task's row first, so neither waits on the other in turn (a deadlock
 * once failed a page's "cancel upload" with a database error).
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class UploadLockOrderTest {

  @Test
  void bytesCommittedWhileTheImportIsTerminatedWaitForTheTerminateInsteadOfDeadlocking()
      throws Exception {
    Tus.Created created = Tus.create("tus_lock_order", 100, null);
    String taskId = created.taskId();
    UUID upload = UUID.fromString(created.uploadId());
    String writer = "elsewhere/" + UUID.randomUUID();
    try (Connection c = TestDatabase.pg().connect()) {
      assertTrue(UploadStore.take(c, upload, writer, Duration.ofMinutes(1)) != null, "taken");
    }
    try (Connection terminate = TestDatabase.pg().connect();
        Connection request = TestDatabase.pg().connect()) {
      terminate.setAutoCommit(false);
      request.setAutoCommit(false);
      // the terminate's order: the task's row, then (below) the upload's
      execute(terminate, "SELECT 1 FROM tsm.task WHERE id = '" + taskId + "' FOR UPDATE");
      CompletableFuture<UploadRow> committed =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  UploadRow moved =
                      UploadStore.advance(
                          request, upload, writer, 0, 10, 10, null, Duration.ofHours(1), false);
                  request.commit();
                  return moved;
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      Waits.until(
          Duration.ofSeconds(10),
          "the request's commit waits for the task's row",
          () -> waitingSessions() >= 1);
      // past PostgreSQL's deadlock_timeout (1 s): a cycle would have been found by now
      Waits.pause(1500);
      execute(
          terminate,
          "UPDATE tsm.upload SET ended = 'TERMINATED', writer = NULL WHERE task_id = '"
              + taskId
              + "' AND ended IS NULL");
      terminate.commit();
      // the upload ended first: the request's bytes are not taken, and nothing failed
      assertNull(committed.get(10, TimeUnit.SECONDS), "no offset moved after the end");
    }
    try (Connection c = TestDatabase.pg().connect()) {
      assertEquals(0L, UploadStore.find(c, upload).received());
    }
  }

  private static long waitingSessions() {
    return dev.tsm.support.Db.count(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            + " AND wait_event_type = 'Lock'");
  }

  private static void execute(Connection c, String sql) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.execute();
    }
  }
}
