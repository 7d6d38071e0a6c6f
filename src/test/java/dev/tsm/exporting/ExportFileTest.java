package dev.tsm.exporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.csv.FileStore;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import dev.tsm.task.RunStop;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * An export's file belongs to one run at a time: a second run of the same task (a takeover, a
 * resume elsewhere) waits until the first let go of it, and finds it cut back to its checkpoint.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ExportFileTest {
  private static final Duration SHORT = Duration.ofMillis(300);

  @Inject DataSource dataSource;
  @Inject FileStore files;

  @Test
  void aSecondRunWaitsForTheFirstToLetGoThenFindsItsCheckpointsLength() throws Exception {
    UUID task = UUID.randomUUID();
    Path page = Files.createTempFile("page", ".csv");
    Files.writeString(page, "1,one\n2,two\n", StandardCharsets.UTF_8);
    long pageLength = Files.size(page);

    ExportFile first = ExportFile.open(dataSource, files, task, 0, SHORT);
    long end = first.append(page, 0, RunStop.never());
    first.sync();
    first.checkpoint(end, () -> null); // the first page's checkpoint committed
    assertEquals(2 * pageLength, first.append(page, end, RunStop.never()), "appended ahead");

    IllegalStateException held =
        assertThrows(
            IllegalStateException.class,
            () -> ExportFile.open(dataSource, files, task, end, SHORT));
    assertTrue(held.getMessage().contains("still held by another run"), held.getMessage());

    first.close();
    first.closed().get(10, TimeUnit.SECONDS);
    assertEquals(end, Files.size(files.exportPart(task)), "cut back to the checkpoint's length");
    ExportFile second = ExportFile.open(dataSource, files, task, end, SHORT);
    assertEquals(2 * pageLength, second.append(page, end, RunStop.never()));
    second.close();
    second.closed().get(10, TimeUnit.SECONDS);
    Files.delete(files.exportPart(task));
    Files.delete(page);
  }

  @Test
  void theLockGoesWhenTheRunsConnectionDoes() throws Exception {
    UUID task = UUID.randomUUID();
    ExportFile first = ExportFile.open(dataSource, files, task, 0, SHORT);
    // As when its instance is killed: the server ends the session, and the lock with it.
    try (var c = TestDatabase.pg().connect();
        var s = c.createStatement()) {
      s.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
              + " AND ((classid::bigint << 32) | objid::bigint) = "
              + ExportFile.lockKey(task));
    }
    Waits.until(
        Duration.ofSeconds(10),
        "a second run takes the file",
        () -> {
          try {
            ExportFile.open(dataSource, files, task, 0, SHORT).close();
            return true;
          } catch (IllegalStateException e) {
            return false;
          }
        });
    first.close();
    first.closed().get(10, TimeUnit.SECONDS);
    Files.deleteIfExists(files.exportPart(task));
  }

  @Test
  void aPageWritesStraightIntoTheFileOnceThePagesBeforeItAreAppended() throws Exception {
    UUID task = UUID.randomUUID();
    Path part = files.exportPart(task);
    Path before = Files.createTempFile("page", ".csv");
    Files.writeString(before, "id,name\n1,one\n", StandardCharsets.UTF_8);
    Path pageFile = Files.createTempFile("page", ".csv");
    ExportFile file = ExportFile.open(dataSource, files, task, 0, SHORT);
    CompletableFuture<Long> appendedBefore = new CompletableFuture<>();
    try (FileChannel channel =
        FileChannel.open(pageFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      PageSink sink = new PageSink(channel, appendedBefore, file, RunStop.never());
      sink.write(bytes("2,two\n"));
      assertFalse(sink.direct(), "the page before is not appended yet: into the page file");
      assertEquals("2,two\n", Files.readString(pageFile, StandardCharsets.UTF_8));

      appendedBefore.complete(file.append(before, 0, RunStop.never()));
      sink.write(bytes("3,three\n"));
      assertTrue(sink.direct(), "the page before is appended: straight into the export file");
      assertEquals("2,two\n", Files.readString(pageFile, StandardCharsets.UTF_8), "no more");
      String expected = "id,name\n1,one\n2,two\n3,three\n";
      assertEquals(expected, Files.readString(part, StandardCharsets.UTF_8));
      assertEquals(expected.length(), sink.end());

      // The page after appends at its end; the first checkpoint claims the first page only.
      assertEquals(
          expected.length() + Files.size(before), file.append(before, sink.end(), RunStop.never()));
      file.sync();
      file.checkpoint(Files.size(before), () -> null);
      // A stopped run: its file is cut back to the checkpoint, and the page writes no more.
      file.close();
      file.closed().get(10, TimeUnit.SECONDS);
      assertEquals("id,name\n1,one\n", Files.readString(part, StandardCharsets.UTF_8));
      // Nothing thrown into the COPY that writes the page: the failure is kept for its owner.
      sink.write(bytes("4,four\n"));
      assertTrue(sink.failure() instanceof IllegalStateException, String.valueOf(sink.failure()));
      assertTrue(sink.failure().getMessage().contains("stopped"), sink.failure().getMessage());
      sink.write(bytes("5,five\n"));
      assertEquals("id,name\n1,one\n", Files.readString(part, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(part);
      Files.delete(before);
      Files.delete(pageFile);
    }
  }

  @Test
  void aPageWhoseFileCannotBeWrittenKeepsTheFailureAndWritesNothingMore() throws Exception {
    Path pageFile = Files.createTempFile("page", ".csv");
    FileChannel channel =
        FileChannel.open(pageFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      // The pages before it are not appended: its bytes go to its page file, which is gone.
      PageSink sink = new PageSink(channel, new CompletableFuture<>(), null, RunStop.never());
      sink.write(bytes("1,one\n"));
      channel.close();
      sink.write(bytes("2,two\n"));
      assertTrue(
          sink.failure() instanceof java.io.UncheckedIOException, String.valueOf(sink.failure()));
      assertTrue(
          sink.failure().getMessage().startsWith("cannot write the export file"),
          sink.failure().getMessage());
      RuntimeException first = sink.failure();
      sink.write(bytes("3,three\n"));
      assertTrue(first == sink.failure(), "the first failure is the one kept");
      assertEquals("1,one\n", Files.readString(pageFile, StandardCharsets.UTF_8));
    } finally {
      channel.close();
      Files.delete(pageFile);
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
