package dev.tsm.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real PostgreSQL (binaries from Maven Central) for running the service locally with nothing set
 * up: started only when no database is configured, with its data kept in a local folder across
 * restarts. Never used when {@code quarkus.datasource.*} URLs are given.
 */
public final class EmbeddedDatabase {
  private static final String JDBC_URL = "quarkus.datasource.jdbc.url";
  private static final String REACTIVE_URL = "quarkus.datasource.reactive.url";

  private EmbeddedDatabase() {}

  /** Starts the embedded server and points the datasources at it, unless a database is set. */
  public static void startIfUnconfigured() throws IOException {
    if (configured(JDBC_URL) || configured(REACTIVE_URL)) {
      return;
    }
    Path dir = Path.of(setting("tsm.embedded.data-dir", "data/postgres")).toAbsolutePath();
    int port = Integer.parseInt(setting("tsm.embedded.port", "15432"));
    Files.createDirectories(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(false)
            .setPort(port)
            .setServerConfig("max_connections", "100")
            // The library's defaults are for throwaway test databases: fsync off (-F, which a later
            // setting overrides) and synchronous_commit off. This one keeps a user's data across
            // restarts, so a commit the service reports is on disk, as with any other server.
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .start();
    String hostPort = "localhost:" + pg.getPort() + "/postgres";
    System.setProperty(JDBC_URL, "jdbc:postgresql://" + hostPort);
    System.setProperty(REACTIVE_URL, "postgresql://" + hostPort);
    System.setProperty("quarkus.datasource.username", "postgres");
    System.out.printf(
        "No database configured: embedded PostgreSQL on port %d, data in %s%n", pg.getPort(), dir);
  }

  /** A setting from system properties or the environment (the MicroProfile Config names). */
  private static boolean configured(String key) {
    String value = setting(key, null);
    return value != null && !value.isBlank();
  }

  private static String setting(String key, String fallback) {
    String value = System.getProperty(key);
    if (value == null) {
      value = System.getenv(envName(key));
    }
    return value == null ? fallback : value;
  }

  static String envName(String key) {
    StringBuilder env = new StringBuilder();
    for (char c : key.toCharArray()) {
      env.append(Character.isLetterOrDigit(c) ? Character.toUpperCase(c) : '_');
    }
    return env.toString();
  }
}
