package dev.tsm.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;

/**
 * A fresh database for one test run, on a real PostgreSQL server: the one at TSM_TEST_PGHOST /
 * TSM_TEST_PGPORT (default 127.0.0.1:5432, user postgres), or an embedded one when none answers.
 */
public class TestDatabase implements QuarkusTestResourceLifecycleManager {
  private static volatile Pg pg;
  private EmbeddedPostgres embedded;

  /** Where the test database is, for JDBC and for psql. */
  public record Pg(String host, int port, String user, String database) {
    public String jdbcUrl() {
      return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    public Connection connect() throws SQLException {
      return DriverManager.getConnection(jdbcUrl(), user, "");
    }
  }

  public static Pg pg() {
    if (pg == null) {
      throw new IllegalStateException("the test database is not started");
    }
    return pg;
  }

  @Override
  public Map<String, String> start() {
    String host = env("TSM_TEST_PGHOST", "127.0.0.1");
    int port = Integer.parseInt(env("TSM_TEST_PGPORT", "5432"));
    String user = env("TSM_TEST_PGUSER", "postgres");
    if (!answers(host, port, user)) {
      try {
        embedded = EmbeddedPostgres.builder().start();
      } catch (Exception e) {
        throw new IllegalStateException(
            "no PostgreSQL at " + host + ":" + port + " and no embedded one", e);
      }
      host = "localhost";
      port = embedded.getPort();
      user = "postgres";
    }
    deleteTree(java.nio.file.Path.of("target", "test-files"));
    String database = "tsm_it_" + UUID.randomUUID().toString().substring(0, 8);
    admin(host, port, user, "CREATE DATABASE " + database);
    pg = new Pg(host, port, user, database);
    return Map.of(
        "quarkus.datasource.jdbc.url",
        pg.jdbcUrl(),
        "quarkus.datasource.reactive.url",
        "postgresql://" + host + ":" + port + "/" + database,
        "quarkus.datasource.username",
        user);
  }

  @Override
  public void stop() {
    Pg current = pg;
    if (current != null && !"keep".equals(System.getenv("TSM_TEST_DB"))) {
      admin(
          current.host(),
          current.port(),
          current.user(),
          "DROP DATABASE IF EXISTS " + current.database() + " WITH (FORCE)");
    }
    if (embedded != null) {
      try {
        embedded.close();
      } catch (Exception ignored) {
        // the JVM ends next
      }
    }
  }

  /** Files staged by an earlier run belong to its (dropped) database. */
  private static void deleteTree(java.nio.file.Path dir) {
    if (!java.nio.file.Files.exists(dir)) {
      return;
    }
    try (var paths = java.nio.file.Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static boolean answers(String host, int port, String user) {
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:postgresql://" + host + ":" + port + "/postgres?connectTimeout=3", user, "")) {
      return c.isValid(3);
    } catch (SQLException e) {
      return false;
    }
  }

  private static void admin(String host, int port, String user, String sql) {
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://" + host + ":" + port + "/postgres", user, "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
