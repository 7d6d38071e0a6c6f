package dev.tsm.support;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

/** The uploads the service under test staged ({@code tsm.storage} of the test profile). */
public final class Staged {
  /** Where the service stages import bodies in the tests. */
  public static final Path IMPORTS = Path.of("target", "test-files", "imports");

  private Staged() {}

  /** The staged files now. */
  public static Set<Path> files() {
    if (!Files.isDirectory(IMPORTS)) {
      return Set.of();
    }
    try (var files = Files.list(IMPORTS)) {
      return files.collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The staged files that were not there {@code before}. */
  public static Set<Path> since(Set<Path> before) {
    return files().stream().filter(p -> !before.contains(p)).collect(Collectors.toSet());
  }

  /**
   * A refused import left nothing: no task for {@code table}, no table {@code public.<table>}, and
   * (within 10 s, the time a refused body takes to be removed) no staged file beyond {@code
   * before}.
   */
  public static void assertNothingLeftFor(String table, Set<Path> before) {
    assertEquals(
        0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name = '" + table + "'"), "task");
    assertFalse(Db.tableExists("public." + table), "table public." + table);
    await("no staged file left for " + table)
        .atMost(Duration.ofSeconds(10))
        .until(() -> since(before).isEmpty());
  }
}
