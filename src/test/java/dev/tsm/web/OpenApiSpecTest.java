package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The API description clients generate code from: committed, complete, and what is served. */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class OpenApiSpecTest {
  private static final String COMMITTED = "docs/openapi.yaml";

  @Test
  void committedSpecIsWhatTheServiceServes() throws Exception {
    String served =
        given()
            .accept("application/yaml")
            .get("/q/openapi")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    // Compared as documents: the two writers order keys differently.
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    assertEquals(
        yaml.readTree(committed()),
        yaml.readTree(served),
        "docs/openapi.yaml is out of date: the build wrote the new one there; commit it");
  }

  @Test
  void examplesValidateAndSchemasAreClientReady() {
    // Every example against its schema; no $ref with siblings; no framework class as a schema.
    assertEquals(List.of(), dev.tsm.support.Contract.get().documentProblems());
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyOperationHasAnIdASummaryAndItsErrors() {
    Map<String, Object> paths =
        given()
            .get("/q/openapi?format=json")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath()
            .getMap("paths");
    List<String> problems = new ArrayList<>();
    paths.forEach(
        (path, item) ->
            ((Map<String, Object>) item)
                .forEach(
                    (method, value) -> {
                      Map<String, Object> op = (Map<String, Object>) value;
                      String where = method.toUpperCase() + " " + path;
                      if (op.get("operationId") == null) {
                        problems.add(where + ": no operationId");
                      }
                      if (op.get("summary") == null) {
                        problems.add(where + ": no summary");
                      }
                      Map<String, Object> responses = (Map<String, Object>) op.get("responses");
                      boolean errors =
                          responses.keySet().stream().anyMatch(code -> code.startsWith("4"));
                      // Only the two listings that take no input cannot fail on a client's account.
                      if (!errors && !path.equals("/tables") && !path.equals("/tasks/events")) {
                        problems.add(where + ": no error response");
                      }
                    }));
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /**
   * The committed copy, from git: the build has just rewritten {@code docs/openapi.yaml} from the
   * code, so the file on disk always matches what is served and cannot be the reference. Without
   * git or outside a checkout the test fails: it cannot check what it is for.
   */
  private static String committed() throws InterruptedException {
    Process git;
    try {
      git =
          new ProcessBuilder("git", "show", "HEAD:" + COMMITTED).redirectErrorStream(true).start();
    } catch (IOException e) {
      return fail(
          "cannot run git to read the committed " + COMMITTED + " (this test needs a checkout)", e);
    }
    String text;
    try {
      text = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      git.destroyForcibly();
      return fail("cannot read git's output", e);
    }
    if (!git.waitFor(30, TimeUnit.SECONDS)) {
      git.destroyForcibly();
      return fail("git show HEAD:" + COMMITTED + " did not end within 30 s");
    }
    assertEquals(
        0,
        git.exitValue(),
        () ->
            "no committed " + COMMITTED + " to compare with (this test needs a checkout): " + text);
    return text;
  }
}
