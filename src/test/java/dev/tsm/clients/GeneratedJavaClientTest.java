package dev.tsm.clients;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Auth;
import dev.tsm.support.ClientFlow;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.openapitools.client.ApiClient;
import org.openapitools.client.ApiException;
import org.openapitools.client.ApiResponse;
import org.openapitools.client.api.ExportsApi;
import org.openapitools.client.api.ImportsApi;
import org.openapitools.client.api.TasksApi;
import org.openapitools.client.model.ExportRequest;
import org.openapitools.client.model.Problem;
import org.openapitools.client.model.Task;
import org.openapitools.client.model.TaskKind;
import org.openapitools.client.model.TaskState;

/**
 * The Java client the build generates from docs/openapi.yaml with openapi-generator's defaults
 * (java, okhttp-gson; see pom.xml) runs the whole flow against the service: import a file, watch
 * it, list, pause/resume/terminate, export, download (whole, a Range, conditionally), rejects, and
 * errors as typed problems. Its models check every answer as they read it (required fields, types,
 * no field the document does not declare), so a document that says something else than the service
 * fails here.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class GeneratedJavaClientTest {
  @TestHTTPResource("/")
  URL base;

  @Test
  void theGeneratedJavaClientRunsTheWholeFlow() throws Exception {
    ApiClient client = new ApiClient().setBasePath(base.toString().replaceAll("/$", ""));
    client.setBearerToken(Auth.ALICE);
    ImportsApi imports = new ImportsApi(client);
    TasksApi tasks = new TasksApi(client);
    ExportsApi exports = new ExportsApi(client);
    ClientFlow.Inputs in = ClientFlow.inputs("java_flow");

    // Import a file, watch it, find it in the list.
    Task started = startImport(imports, in.table(), in.file().toFile(), null);
    assertEquals(TaskKind.IMPORT, started.getKind());
    Task done = watch(tasks, started.getId(), TaskState.COMPLETED, TaskState.FAILED);
    assertEquals(TaskState.COMPLETED, done.getState(), done.getError());
    assertEquals(ClientFlow.ROWS, done.getRowsDone());
    assertEquals(100.0, done.getPercent());
    assertNotNull(done.getFinishedAt(), "a completed task has finished");
    assertNull(done.getError());
    List<Task> listed = tasks.listTasks(null, TaskKind.IMPORT, 50, null);
    assertTrue(listed.stream().allMatch(t -> t.getKind() == TaskKind.IMPORT), "only imports");
    assertTrue(
        listed.stream().anyMatch(t -> t.getId().equals(started.getId())), "the import is listed");

    // Pause, resume and terminate an import large enough to be caught running.
    Task large = startImport(imports, ClientFlow.largeTable(in.table()), in.large().toFile(), null);
    tasks.pauseTask(large.getId());
    Task paused = watch(tasks, large.getId(), TaskState.PAUSED, TaskState.COMPLETED);
    assertEquals(TaskState.PAUSED, paused.getState(), "paused before it completed");
    assertTrue(paused.getActions().contains("resume"), "a paused task can be resumed");
    tasks.resumeTask(large.getId(), null);
    tasks.terminateTask(large.getId());
    Task terminated = watch(tasks, large.getId(), TaskState.TERMINATED, TaskState.COMPLETED);
    assertEquals(TaskState.TERMINATED, terminated.getState(), "terminated before it completed");

    // Export the imported table; download it whole, a range of it, and conditionally.
    Task export = exports.startExport(new ExportRequest().table(in.table()), null);
    Task exported = watch(tasks, export.getId(), TaskState.COMPLETED, TaskState.FAILED);
    assertEquals(TaskState.COMPLETED, exported.getState(), exported.getError());
    assertEquals(done.getRowsDone(), exported.getRowsDone(), "as many rows out as in");
    ApiResponse<File> whole = exports.downloadExportWithHttpInfo(export.getId(), null, null, null);
    assertEquals(200, whole.getStatusCode());
    Files.copy(whole.getData().toPath(), in.exported(), StandardCopyOption.REPLACE_EXISTING);
    byte[] bytes = Files.readAllBytes(in.exported());
    ApiResponse<File> range =
        exports.downloadExportWithHttpInfo(export.getId(), null, null, "bytes=100-199");
    assertEquals(206, range.getStatusCode());
    assertArrayEquals(
        Arrays.copyOfRange(bytes, 100, 200),
        Files.readAllBytes(range.getData().toPath()),
        "the range is those bytes of the file");
    assertEquals(List.of("bytes 100-199/" + bytes.length), range.getHeaders().get("content-range"));
    String etag = whole.getHeaders().get("etag").get(0);
    ApiException notModified =
        assertThrows(
            ApiException.class, () -> exports.downloadExport(export.getId(), null, etag, null));
    assertEquals(304, notModified.getCode(), "the same ETag: not modified");

    // The rejects of an import that sets bad rows aside.
    Task skipping =
        startImport(imports, ClientFlow.badTable(in.table()), in.bad().toFile(), "skip");
    Task skipped = watch(tasks, skipping.getId(), TaskState.COMPLETED, TaskState.FAILED);
    assertEquals(1, skipped.getRowsSkipped());
    List<String> rejects = Files.readAllLines(tasks.getRejects(skipping.getId()).toPath());
    assertEquals("line,reason,record", rejects.get(0));
    assertEquals(2, rejects.size(), rejects::toString);
    assertTrue(rejects.get(1).startsWith("3,"), rejects::toString);

    // Errors as typed problems.
    Problem conflict = problem(409, () -> tasks.pauseTask(started.getId()));
    assertEquals(Problem.StateEnum.COMPLETED, conflict.getState(), "the problem names the state");
    problem(404, () -> tasks.getTask("0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10"));
    problem(400, () -> tasks.getTask("not-a-task-id"));
    problem(404, () -> exports.startExport(new ExportRequest().table("no_such_table"), null));

    ClientFlow.assertOutcome(in);
  }

  private static Task startImport(ImportsApi imports, String table, File file, String onError)
      throws ApiException {
    return imports.startImport(
        table, file, null, null, null, null, null, null, onError, null, null, null, null);
  }

  /** Polls the task until it is in one of {@code states}. */
  private static Task watch(TasksApi tasks, String id, TaskState... states) {
    AtomicReference<Task> last = new AtomicReference<>();
    Waits.until(
        Duration.ofSeconds(60),
        "task " + id + " " + Arrays.toString(states),
        () -> {
          try {
            last.set(tasks.getTask(id));
          } catch (ApiException e) {
            throw new AssertionError(e.getCode() + " " + e.getResponseBody(), e);
          }
          return Arrays.asList(states).contains(last.get().getState());
        });
    return last.get();
  }

  interface Call {
    void run() throws ApiException;
  }

  /** The error a call answers: an ApiException whose body is the document's Problem. */
  private static Problem problem(int status, Call call) throws Exception {
    ApiException e = assertThrows(ApiException.class, call::run);
    assertEquals(status, e.getCode(), e.getResponseBody());
    assertTrue(
        e.getResponseHeaders().get("content-type").get(0).startsWith("application/problem+json"),
        e.getResponseHeaders().toString());
    Problem problem = Problem.fromJson(e.getResponseBody());
    assertEquals(status, problem.getStatus());
    assertNotNull(problem.getTitle());
    assertNotNull(problem.getDetail(), "a problem says what is wrong");
    return problem;
  }
}
