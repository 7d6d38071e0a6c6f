package dev.tsm.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tsm.support.Auth;
import dev.tsm.support.ClientFlow;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A TypeScript client generated from docs/openapi.yaml (openapi-typescript for the types,
 * openapi-fetch for the calls; src/test/typescript) compiles under {@code tsc --strict} and runs
 * the whole flow under Node against the service: import, watch, list, pause/resume/terminate,
 * export, download with a Range, rejects, a typed problem. Node 20 and npm must be on the PATH
 * (.ci/run installs them); the dependencies are installed from the committed package-lock.json when
 * node_modules is missing.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class GeneratedTypeScriptClientTest {
  private static final Path PROJECT = Path.of("src", "test", "typescript");

  @TestHTTPResource("/")
  URL base;

  @Test
  void theGeneratedTypeScriptClientRunsTheWholeFlowUnderNode() {
    run(Duration.ofSeconds(10), "node", "--version");
    if (!Files.isDirectory(PROJECT.resolve("node_modules"))) {
      run(Duration.ofSeconds(300), "npm", "ci", "--no-audit", "--no-fund");
    }
    run(
        Duration.ofSeconds(60),
        "npx",
        "--no-install",
        "openapi-typescript",
        "../../../docs/openapi.yaml",
        "-o",
        "src/generated/api.d.ts");
    run(Duration.ofSeconds(120), "npx", "--no-install", "tsc", "-p", ".");
    ClientFlow.Inputs in = ClientFlow.inputs("ts_flow");
    run(
        Duration.ofSeconds(90),
        "node",
        "dist/flow.js",
        base.toString().replaceAll("/$", ""),
        Auth.ALICE,
        in.table(),
        in.file().toString(),
        in.large().toString(),
        in.bad().toString(),
        in.exported().toString());
    ClientFlow.assertOutcome(in);
  }

  /**
   * Runs a command in the TypeScript project; prints its output; fails unless it exits 0 in time.
   */
  private static void run(Duration atMost, String... command) {
    List<String> line = new ArrayList<>(List.of(command));
    Process p;
    try {
      p = new ProcessBuilder(line).directory(PROJECT.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      fail(
          "cannot run "
              + command[0]
              + " ("
              + e.getMessage()
              + "): the TypeScript client test needs Node.js 20+ and npm on the PATH"
              + " (apt-get install nodejs npm; .ci/run installs them)");
      return;
    }
    CompletableFuture<String> output =
        CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
    try {
      boolean ended = p.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS);
      if (!ended) {
        p.destroyForcibly();
      }
      String out = output.get(10, TimeUnit.SECONDS);
      System.out.println("$ " + String.join(" ", line) + "\n" + out);
      if (!ended) {
        fail(String.join(" ", line) + " did not end within " + atMost + ":\n" + out);
      }
      assertEquals(0, p.exitValue(), () -> String.join(" ", line) + " failed:\n" + out);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", line), e);
    }
  }

  private static String read(InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
