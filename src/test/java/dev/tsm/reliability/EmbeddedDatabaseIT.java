package dev.tsm.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.ServiceProcess;
import dev.tsm.support.Waits;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The packaged service with no database configured, as the README's run command starts it: on its
 * embedded PostgreSQL, which keeps a user's data across restarts and so must be as durable as any
 * other server (the embedding library's defaults, fsync and synchronous_commit off, are for
 * throwaway test databases), and which stops with the service.
 */
class EmbeddedDatabaseIT {
  @Test
  void withNoDatabaseConfiguredTheServiceRunsOnADurableEmbeddedPostgresThatStopsWithIt()
      throws Exception {
    Path dir = Files.createTempDirectory("tsm-embedded-it");
    int port = ServiceProcess.freePort();
    Map<String, String> env =
        Map.of(
            "TSM_EMBEDDED_DATA_DIR", dir.resolve("postgres").toString(),
            "TSM_EMBEDDED_PORT", Integer.toString(port),
            "TSM_STORAGE_DIR", dir.resolve("files").toString());
    try (ServiceProcess service = ServiceProcess.startReady("EmbeddedDatabaseIT", env)) {
      assertTrue(service.log().contains("embedded PostgreSQL on port " + port), service.tail(20));
      try (Connection c =
              DriverManager.getConnection(
                  "jdbc:postgresql://localhost:" + port + "/postgres", "postgres", "");
          Statement s = c.createStatement()) {
        assertEquals("on", show(s, "fsync"), "a commit the service reports is on disk");
        assertEquals("on", show(s, "synchronous_commit"));
        assertEquals("on", show(s, "full_page_writes"));
        try (ResultSet rs = s.executeQuery("SELECT to_regclass('tsm.task') IS NOT NULL")) {
          rs.next();
          assertTrue(rs.getBoolean(1), "the service's tables were migrated into it");
        }
      }
      service.terminate(Duration.ofSeconds(30));
    }
    Waits.until(
        Duration.ofSeconds(20),
        "the embedded server stops with the service",
        () -> {
          try (Socket ignored = new Socket("localhost", port)) {
            return false;
          } catch (java.io.IOException refused) {
            return true;
          }
        });
  }

  private static String show(Statement s, String setting) throws Exception {
    try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
