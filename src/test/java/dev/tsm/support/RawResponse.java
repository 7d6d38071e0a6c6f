package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.restassured.path.json.JsonPath;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** An HTTP/1.1 response read off a plain socket: interim (1xx) responses skipped. */
public record RawResponse(int status, Map<String, String> headers, String body) {

  public static RawResponse parse(String text) {
    String rest = text;
    while (true) {
      int end = rest.indexOf("\r\n\r\n");
      if (!rest.startsWith("HTTP/1.1 ") || end < 0) {
        throw new AssertionError("not an HTTP response: '" + text + "'");
      }
      int status = Integer.parseInt(rest.substring(9, 12));
      Map<String, String> headers = new LinkedHashMap<>();
      for (String line : rest.substring(0, end).split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.put(
              line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
              line.substring(colon + 1).trim());
        }
      }
      rest = rest.substring(end + 4);
      if (status >= 200) {
        return new RawResponse(status, headers, rest);
      }
    }
  }

  public String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  /** A problem+json with this status whose detail mentions each word; returns it. */
  public JsonPath assertProblem(int expected, String... words) {
    assertEquals(expected, status, this.toString());
    String type = header("Content-Type");
    assertTrue(type != null && type.startsWith(Problems.MEDIA_TYPE), this.toString());
    JsonPath p = JsonPath.from(body);
    assertEquals(expected, p.getInt("status"), body);
    assertNotNull(p.getString("title"), body);
    assertNotNull(p.getString("instance"), body);
    Problems.assertMentions(p.getString("detail"), List.of(words));
    return p;
  }
}
