package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Resumable uploads (tus 1.0) by hand, as Alice: creation, PATCH, HEAD. */
public final class Tus {
  private static final Pattern TASK_LINK =
      Pattern.compile("</tasks/([0-9a-f-]{36})>; rel=\"task\"");

  private Tus() {}

  /** An upload created: where to send its bytes, and its import's task. */
  public record Created(String location, String taskId) {
    public String uploadId() {
      return location.substring(location.lastIndexOf('/') + 1);
    }
  }

  public static RequestSpecification tus() {
    return Auth.given().header("Tus-Resumable", "1.0.0");
  }

  /** Creates an upload of {@code length} bytes into {@code table} (201 checked). */
  public static Created create(String table, long length, Map<String, String> more) {
    Response r =
        tus()
            .header("Upload-Length", String.valueOf(length))
            .header("Upload-Metadata", metadata(table, more))
            .post("/uploads");
    r.then().statusCode(201).header("Tus-Resumable", "1.0.0");
    return new Created(r.header("Location"), taskOf(r));
  }

  /** The task an answer's Link header names. */
  public static String taskOf(Response r) {
    Matcher m = TASK_LINK.matcher(r.header("Link"));
    assertTrue(m.find(), r.header("Link"));
    return m.group(1);
  }

  public static Response patch(String location, long offset, byte[] bytes) {
    return tus()
        .header("Upload-Offset", String.valueOf(offset))
        .contentType("application/offset+octet-stream")
        .body(bytes)
        .patch(location);
  }

  public static void assertOffset(String location, long offset) {
    tus().head(location).then().statusCode(200).header("Upload-Offset", String.valueOf(offset));
  }

  /** Upload-Metadata: the table, then {@code more}, each value in Base64. */
  public static String metadata(String table, Map<String, String> more) {
    Map<String, String> pairs = new LinkedHashMap<>();
    pairs.put("table", table);
    if (more != null) {
      pairs.putAll(more);
    }
    StringBuilder header = new StringBuilder();
    pairs.forEach(
        (k, v) ->
            header
                .append(header.length() == 0 ? "" : ",")
                .append(k)
                .append(' ')
                .append(Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return header.toString();
  }
}
