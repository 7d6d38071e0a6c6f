package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Refusals made before any resource runs are problem+json too: a method the path does not take
 * (405, with Allow), and a media type the client accepts that the resource cannot give (406, the
 * problem sent anyway). A body past the HTTP layer's own limit (413): see {@link
 * RequestBodyLimitsTest}.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class HttpLayerErrorsTest {
  @Test
  void aMethodThePathDoesNotTakeIs405WithAllow() {
    Response r = given().delete("/imports");
    assertProblem(r, 405, "DELETE", "/imports");
    assertEquals(List.of("OPTIONS", "POST"), allowed(r));

    Response task = given().put("/tasks/0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10");
    assertProblem(task, 405, "PUT");
    assertEquals(List.of("GET", "HEAD", "OPTIONS"), allowed(task));
  }

  @Test
  void aMediaTypeTheResourceCannotGiveIs406ProblemJsonAnyway() {
    Response r = given().accept("image/png").get("/tasks");
    assertProblem(r, 406, "Accept");
  }

  private static List<String> allowed(Response r) {
    String allow = r.getHeader("Allow");
    assertNotNull(allow, "Allow is sent with 405");
    return Arrays.stream(allow.split(",")).map(String::trim).sorted().toList();
  }
}
