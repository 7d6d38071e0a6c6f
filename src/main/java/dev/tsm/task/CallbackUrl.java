package dev.tsm.task;

import dev.tsm.Refusal;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The URL a task calls back when it ends, kept in its options under {@value #OPTION}: the outbox
 * trigger (V10) reads it there, in the transaction that ends the task.
 */
public final class CallbackUrl {
  /** The key of the URL in a task's options. */
  public static final String OPTION = "callback";

  static final int MAX_LENGTH = 2048;

  private CallbackUrl() {}

  /** {@code raw} checked: an absolute http or https URL; null when absent (400 when bad). */
  public static String check(String raw) {
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    if (raw.length() > MAX_LENGTH) {
      throw Refusal.invalid("'callback' is longer than " + MAX_LENGTH + " characters");
    }
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw Refusal.invalid("'callback' is not a URL: " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!uri.isAbsolute()
        || !(scheme.equals("http") || scheme.equals("https"))
        || uri.getHost() == null) {
      throw Refusal.invalid(
          "'callback' must be an absolute http or https URL such as"
              + " https://example.com/hooks/tsm, not '"
              + raw
              + "'");
    }
    return raw;
  }

  /** {@code options} with {@code url} under {@value #OPTION} (unchanged when url is null). */
  public static JsonObject into(JsonObject options, String url) {
    return url == null ? options : options.put(OPTION, url);
  }

  /** The URL a task's options name, or null. */
  public static String of(JsonObject options) {
    return options == null ? null : options.getString(OPTION);
  }
}
