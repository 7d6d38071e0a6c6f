package dev.tsm.web;

import dev.tsm.Refusal;
import java.util.UUID;

/** Task and upload ids in paths and parameters. */
final class Ids {
  private Ids() {}

  static UUID parse(String text) {
    return parse(text, "task");
  }

  /** The id of a {@code what} ("task", "upload"): a 400 that says so when it is not a UUID. */
  static UUID parse(String text, String what) {
    try {
      if (text != null && text.length() == 36) {
        return UUID.fromString(text);
      }
    } catch (IllegalArgumentException ignored) {
      // reported below
    }
    String shown = text == null ? "" : text.length() > 60 ? text.substring(0, 60) + "..." : text;
    throw Refusal.invalid(
        "'"
            + shown
            + "' is not "
            + (what.startsWith("u") ? "an " : "a ")
            + what
            + " id: ids are UUIDs such as 0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10");
  }
}
