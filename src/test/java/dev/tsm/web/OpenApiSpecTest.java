package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The API description clients generate code from: committed, complete, and what is served. */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class OpenApiSpecTest {
  private static final Path COMMITTED = Path.of("docs", "openapi.yaml");

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

  /** The committed copy: from git when the tree is a checkout (the build rewrote the file). */
  private static String committed() throws IOException, InterruptedException {
    try {
      Process git =
          new ProcessBuilder("git", "show", "HEAD:docs/openapi.yaml")
              .redirectErrorStream(false)
              .start();
      String text = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (git.waitFor(30, TimeUnit.SECONDS) && git.exitValue() == 0) {
        return text;
      }
    } catch (IOException e) {
      // no git: compare with the file as it is
    }
    return Files.readString(COMMITTED);
  }
}
