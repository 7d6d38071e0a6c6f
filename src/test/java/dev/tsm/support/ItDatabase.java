package dev.tsm.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;

/**
 * What one integration test class shares: a fresh database ({@code tsm_it_...} on the server the
 * unit tests use, dropped at the end) and a fresh storage folder for the services it starts.
 */
public final class ItDatabase implements AutoCloseable {
  private final TestDatabase database = new TestDatabase();
  private final TestDatabase.Pg pg;
  private final Path storage;

  public ItDatabase(String testClass) {
    database.start();
    pg = TestDatabase.pg();
    storage = Path.of("target", "it-files", testClass).toAbsolutePath();
    deleteTree(storage);
    try {
      Files.createDirectories(storage);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.printf(
        "[%s] database %s on %s:%d%n", testClass, pg.database(), pg.host(), pg.port());
  }

  public TestDatabase.Pg pg() {
    return pg;
  }

  /** The folder all instances of the test share (tsm.storage.dir). */
  public Path storage() {
    return storage;
  }

  /**
   * The environment of a service on this database and storage, with a 2 s lease (a dead instance's
   * task is taken over quickly), then {@code pairs} (name, value, ...).
   */
  public Map<String, String> serviceEnv(String... pairs) {
    Map<String, String> base = ServiceProcess.databaseEnv(pg);
    base.put("TSM_STORAGE_DIR", storage.toString());
    base.put("TSM_RUNNER_LEASE", "2s");
    base.put("TSM_RUNNER_POLL_INTERVAL", "1s");
    return ServiceProcess.env(base, pairs);
  }

  /** A mixed CSV file of {@code rows} rows (see CsvFiles.mixed), generated once per name. */
  public static Path csv(String name, int rows, long seed) {
    Path file = CsvFiles.dir().resolve(name);
    if (Files.isRegularFile(file)) {
      return file;
    }
    Path tmp = CsvFiles.mixed(name + ".tmp", rows, seed);
    try {
      return Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    database.stop();
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
