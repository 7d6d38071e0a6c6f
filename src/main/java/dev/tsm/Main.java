package dev.tsm;

import dev.tsm.embedded.EmbeddedDatabase;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/** Starts the service; with no database configured, on an embedded PostgreSQL first. */
@QuarkusMain
public final class Main {
  private Main() {}

  public static void main(String... args) throws Exception {
    EmbeddedDatabase.startIfUnconfigured();
    Quarkus.run(args);
  }
}
