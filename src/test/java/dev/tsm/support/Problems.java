package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.util.List;
import java.util.Locale;

/** Assertions on RFC 9457 problem responses. */
public final class Problems {
  public static final String MEDIA_TYPE = "application/problem+json";

  private Problems() {}

  /** A problem+json with this status, every member set, whose detail mentions each word. */
  public static JsonPath assertProblem(Response r, int status, String... words) {
    String body = r.asString();
    assertEquals(status, r.statusCode(), body);
    assertTrue(
        r.contentType() != null && r.contentType().startsWith(MEDIA_TYPE),
        "Content-Type " + r.contentType() + ": " + body);
    JsonPath p = r.jsonPath();
    assertEquals(status, p.getInt("status"), body);
    assertNotNull(p.getString("type"), body);
    assertNotNull(p.getString("title"), body);
    assertNotNull(p.getString("instance"), body);
    String detail = p.getString("detail");
    assertNotNull(detail, body);
    assertMentions(detail, List.of(words));
    return p;
  }

  /** {@code text} mentions each word, whatever the case. */
  public static void assertMentions(String text, List<String> words) {
    for (String word : words) {
      assertTrue(
          text.toLowerCase(Locale.ROOT).contains(word.toLowerCase(Locale.ROOT)),
          "'" + text + "' should mention '" + word + "'");
    }
  }
}
