package dev.tsm.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** A task's error is written for its user: the words that explain it, not the wrapper's. */
class FailuresTest {
  private static final class Explained extends RuntimeException implements ExplainedFailure {
    Explained(String message) {
      super(message);
    }
  }

  @Test
  void anExplanationAnywhereInTheChainIsTheErrorAsItIs() {
    Throwable deep =
        new IllegalStateException(
            "wrapper", new RuntimeException(new Explained("the upload broke off at byte 42")));
    assertTrue(Failures.explained(deep));
    assertEquals("the upload broke off at byte 42", Failures.describe(deep));
  }

  @Test
  void otherFailuresAreNotExplainedAndSayWhatKindOfProblemTheyAre() {
    Throwable sql =
        new RuntimeException(new SQLException("relation \"t\" does not exist", "42P01"));
    assertFalse(Failures.explained(sql));
    assertEquals("database error: relation \"t\" does not exist", Failures.describe(sql));

    Throwable file =
        new UncheckedIOException(
            "the staged file of this import is gone", new NoSuchFileException("/data/x.csv"));
    assertFalse(Failures.explained(file));
    assertEquals(
        "file error: the staged file of this import is gone: no such file: /data/x.csv",
        Failures.describe(file));

    assertEquals("IllegalStateException", Failures.describe(new IllegalStateException()));
  }
}
