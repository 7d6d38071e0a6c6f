package dev.tsm.retention;

import java.time.Duration;

/** Durations as an operator writes them in the configuration (7d, 1h, 90s). */
final class Wording {
  private Wording() {}

  static String duration(Duration d) {
    long seconds = d.toSeconds();
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    if (seconds != 0 && seconds % 86_400 == 0) {
      return seconds / 86_400 + "d";
    }
    if (seconds != 0 && seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    if (seconds != 0 && seconds % 60 == 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }
}
