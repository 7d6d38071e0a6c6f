package dev.tsm;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Starts the service; with no database configured, on an embedded PostgreSQL first. The embedded
 * database is looked up by name: the native and production builds leave it out (profile native).
 */
@QuarkusMain
public final class Main {
  private static final String EMBEDDED = "dev.tsm.embedded.EmbeddedDatabase";

  private Main() {}

  public static void main(String... args) throws Exception {
    startEmbeddedDatabase();
    Quarkus.run(args);
  }

  private static void startEmbeddedDatabase() throws Exception {
    Class<?> embedded;
    try {
      embedded = Class.forName(EMBEDDED);
    } catch (ClassNotFoundException e) {
      return; // a build without it: a database must be configured
    }
    embedded.getMethod("startIfUnconfigured").invoke(null);
  }
}
