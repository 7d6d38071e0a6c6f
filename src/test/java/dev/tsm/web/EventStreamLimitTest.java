package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Auth;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Event streams are bounded per instance: one past the limit is refused, and a closed one frees its
 * place.
 */
@QuarkusTest
@TestProfile(EventStreamLimitTest.TwoStreams.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class EventStreamLimitTest {
  /** Room for two streams. */
  public static class TwoStreams implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tsm.events.max-streams", "2");
    }
  }

  @TestHTTPResource("/")
  URL base;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aStreamPastTheLimitIs503WithRetryAfterUntilOneCloses() throws Exception {
    List<HttpResponse<InputStream>> open = new ArrayList<>();
    try {
      open.add(get("tasks/events"));
      open.add(get("tasks/events"));
      open.forEach(r -> assertEquals(200, r.statusCode()));

      HttpResponse<InputStream> refused = get("tasks/events");
      assertEquals(503, refused.statusCode());
      assertEquals("5", refused.headers().firstValue("Retry-After").orElse(null));
      assertTrue(
          refused
              .headers()
              .firstValue("Content-Type")
              .orElse("")
              .startsWith("application/problem+json"));
      String body;
      try (InputStream in = refused.body()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      assertTrue(new JsonPath(body).getString("detail").contains("tsm.events.max-streams"), body);

      open.remove(0).body().close();
      awaitStatus(200, Duration.ofSeconds(10));
    } finally {
      for (HttpResponse<InputStream> r : open) {
        r.body().close();
      }
    }
  }

  /**
   * Waits until a new stream answers {@code status} (a closed stream is noticed on its next write).
   */
  private void awaitStatus(int status, Duration atMost) throws Exception {
    long deadline = System.nanoTime() + atMost.toNanos();
    int last;
    do {
      HttpResponse<InputStream> r = get("tasks/events");
      last = r.statusCode();
      r.body().close();
      if (last == status) {
        return;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("a new stream still answers " + last + " after " + atMost);
  }

  private HttpResponse<InputStream> get(String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base.toString()).resolve(path))
            .header("Authorization", Auth.bearer(Auth.ALICE))
            .header("Accept", "text/event-stream")
            .timeout(Duration.ofSeconds(30))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
  }
}
