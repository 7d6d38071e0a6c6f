package dev.tsm.importing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.SlowUpload;
import dev.tsm.support.Staged;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A large body (declared length over 1 MiB) starts loading before it has arrived. The client here
 * sends it piece by piece; the import is paused, resumed, terminated or cut off while the body is
 * still arriving, and what lands equals {@code psql \copy} of the whole file.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ImportWhileUploadingTest {
  private static final int ROWS = 30_000;

  @Test
  void loadsWhileTheBodyArrivesAndPausesAndResumesLikePsqlCopy() throws IOException {
    Path file = CsvFiles.mixed("arriving.csv", ROWS, 23);
    byte[] body = Files.readAllBytes(file);
    assertTrue(body.length > 2 << 20, "large enough to be followed: " + body.length);
    try (SlowUpload upload = SlowUpload.start("table=arriving", body)) {
      upload.send(body.length / 2);
      String id = Db.awaitTaskOf("arriving");
      JsonPath early = Api.awaitRows(id, 1);
      assertEquals("RUNNING", early.getString("state"));
      assertTrue(early.getLong("bytesDone") <= upload.sent(), "reads only what arrived");
      assertEquals(body.length, early.getLong("bytesTotal"), "the declared length is the total");

      Api.command(id, "pause").then().statusCode(202);
      long paused = Api.awaitState(id, "PAUSED").getLong("rowsDone");
      upload.send(body.length / 4); // the body keeps arriving while the task is paused
      Api.assertStaysPaused(
          id,
          paused,
          Duration.ofMillis(600),
          still ->
              assertEquals(
                  null, Db.single("SELECT owner FROM tsm.task WHERE id = '" + id + "'"), "owner"));

      Api.command(id, "resume").then().statusCode(202);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
      assertTrue(response.contains(id), response);

      JsonPath done = Api.awaitState(id, "COMPLETED");
      assertEquals(ROWS, done.getLong("rowsDone"));
      assertEquals(body.length, done.getLong("bytesDone"));
      assertEquals(null, Db.single("SELECT held_by FROM tsm.task WHERE id = '" + id + "'"), "held");
      Db.copyReference("ref_arriving", "public.arriving", file, ", HEADER true");
      Db.assertSameRows("ref_arriving", "public.arriving");
    }
  }

  @Test
  void aSlowClientsBytesAreLoadedSoonNotAMegabyteLater() throws IOException {
    Path file = CsvFiles.mixed("trickle.csv", ROWS, 29);
    byte[] body = Files.readAllBytes(file);
    int first = (1 << 20) + (1 << 19); // one whole write piece and half of the next
    try (SlowUpload upload = SlowUpload.start("table=trickle", body)) {
      upload.send(first);
      String id = Db.awaitTaskOf("trickle");
      long half = (1 << 20) + (1 << 18);
      Waits.until(
          Duration.ofSeconds(20),
          "the half piece that arrived loaded, though no more bytes come",
          () -> Api.task(id).getLong("bytesDone") > half);
      long done = Api.task(id).getLong("bytesDone");
      assertTrue(done <= first, "only what arrived: " + done);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
      assertEquals(ROWS, Api.awaitState(id, "COMPLETED").getLong("rowsDone"));
      Db.copyReference("ref_trickle", "public.trickle", file, ", HEADER true");
      Db.assertSameRows("ref_trickle", "public.trickle");
    }
  }

  @Test
  void aClientSilentMidRecordStillPausesAtOnce() throws IOException {
    Path file = CsvFiles.mixed("silent.csv", ROWS, 41);
    byte[] body = Files.readAllBytes(file);
    int lineEnd = body.length / 2;
    while (body[lineEnd] != '\n') {
      lineEnd++;
    }
    int cut = lineEnd - 3; // inside a record
    try (SlowUpload upload = SlowUpload.start("table=silent", body)) {
      upload.send(cut);
      String id = Db.awaitTaskOf("silent");
      long caughtUp = awaitBytesDoneSettled(id);
      assertTrue(caughtUp < cut && body[(int) caughtUp - 1] == '\n', "at a record end");

      long asked = System.nanoTime();
      Api.command(id, "pause").then().statusCode(202);
      JsonPath paused = Api.awaitState(id, Duration.ofSeconds(10), "PAUSED");
      long millis = (System.nanoTime() - asked) / 1_000_000;
      assertTrue(millis < 5000, "paused after " + millis + " ms with the client silent");
      String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
      assertEquals(paused.getLong("rowsDone"), Db.count("SELECT count(*) FROM tsm." + staging));

      Api.command(id, "resume").then().statusCode(202);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
      assertEquals(ROWS, Api.awaitState(id, "COMPLETED").getLong("rowsDone"));
      Db.copyReference("ref_silent", "public.silent", file, ", HEADER true");
      Db.assertSameRows("ref_silent", "public.silent");
    }
  }

  /** Waits until the import has stopped moving (it read all that arrived); returns bytesDone. */
  private static long awaitBytesDoneSettled(String id) {
    long[] last = {-1, System.nanoTime()};
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              long now = Api.task(id).getLong("bytesDone");
              if (now != last[0]) {
                last[0] = now;
                last[1] = System.nanoTime();
                return false;
              }
              return now > 0 && System.nanoTime() - last[1] > 1_500_000_000L;
            });
    return last[0];
  }

  @Test
  void aBodyCutOffTerminatesItsTaskAndLeavesNothing() throws Exception {
    byte[] body = Files.readAllBytes(CsvFiles.mixed("cut-upload.csv", ROWS, 29));
    SlowUpload upload = SlowUpload.start("table=cut_upload", body);
    upload.send(body.length * 3 / 5);
    String id = Db.awaitTaskOf("cut_upload");
    Api.awaitRows(id, 1);
    upload.cutOff();

    JsonPath ended = Api.awaitState(id, "TERMINATED", "COMPLETED");
    assertEquals("TERMINATED", ended.getString("state"), ended.prettify());
    assertTrue(ended.getString("error").contains("upload broke off"), ended.getString("error"));
    assertNothingLeft(id, "public.cut_upload");

    String next = Api.startImport("after_cut_upload", CsvFiles.mixed("after-cut.csv", 100, 1));
    assertEquals("COMPLETED", Api.awaitState(next, "COMPLETED", "FAILED").getString("state"));
  }

  @Test
  void terminatedWhileTheBodyArrivesLeavesNothing() throws Exception {
    byte[] body = Files.readAllBytes(CsvFiles.mixed("terminate-arriving.csv", ROWS, 31));
    try (SlowUpload upload = SlowUpload.start("table=terminate_arriving", body)) {
      upload.send(body.length / 2);
      String id = Db.awaitTaskOf("terminate_arriving");
      Api.awaitRows(id, 1);
      Api.command(id, "terminate").then().statusCode(202);
      Api.awaitState(id, "TERMINATED");

      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
      assertTrue(response.contains("TERMINATED"), response);
      assertNothingLeft(id, "public.terminate_arriving");
    }
  }

  @Test
  void aBadHeaderInALargeBodyIs400AndNothingStays() throws IOException {
    byte[] rows = Files.readAllBytes(CsvFiles.mixed("bad-header-large.csv", ROWS, 37));
    byte[] body = rows.clone();
    body[3] = (byte) 0xC3; // "id,\xC3ode,...": invalid UTF-8 in the header
    body[4] = (byte) 0x28;
    long tasksBefore = Db.count("SELECT count(*) FROM tsm.task");
    try (SlowUpload upload = SlowUpload.start("table=bad_header_large", body)) {
      upload.send(body.length / 2);
      String response = upload.finish();
      assertTrue(response.startsWith("HTTP/1.1 400"), response);
      assertTrue(response.contains("application/problem+json"), response);
      assertTrue(response.contains("invalid UTF-8"), response);
    }
    assertEquals(tasksBefore, Db.count("SELECT count(*) FROM tsm.task"), "no task");
    assertFalse(Db.tableExists("public.bad_header_large"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Staged.files().stream().noneMatch(this::isTheRefusedUpload));
  }

  private static void assertNothingLeft(String id, String table) throws IOException {
    assertFalse(Db.tableExists(table), "no target table");
    String staging = Db.single("SELECT staging_table FROM tsm.task WHERE id = '" + id + "'");
    assertFalse(Db.tableExists("tsm." + staging), "no staging table");
    List<Path> left = Staged.files().stream().filter(p -> p.toString().contains(id)).toList();
    assertTrue(left.isEmpty(), "no staged file: " + left);
  }

  /** Whether a staged file is the refused upload (its header has the bad bytes). */
  private boolean isTheRefusedUpload(Path p) {
    try {
      byte[] start = new byte[8];
      try (var in = Files.newInputStream(p)) {
        int n = in.read(start);
        return n > 4 && start[3] == (byte) 0xC3 && start[4] == 0x28;
      }
    } catch (IOException e) {
      return false; // gone meanwhile
    }
  }
}
