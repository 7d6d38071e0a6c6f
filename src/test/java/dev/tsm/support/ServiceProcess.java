package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The packaged service ({@code target/quarkus-app/quarkus-run.jar}, passed by failsafe as the
 * system property {@code tsm.jar}) run as a child process on a free port, with its output in {@code
 * target/it-logs/<name>.log}. It can be killed ({@code kill -9}), stopped gracefully (SIGTERM),
 * frozen and thawed ({@code kill -STOP} / {@code kill -CONT}), and spoken to over HTTP.
 */
public final class ServiceProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .version(HttpClient.Version.HTTP_1_1)
          .build();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** The API key every started service accepts (as an administrator: it sees every task). */
  public static final String KEY = "tsm_it_0000000000000000000000000000000";

  private static final Map<String, AtomicInteger> STARTS = new ConcurrentHashMap<>();
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    // Whatever happens to the test JVM, no service outlives it.
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "it-reaper"));
  }

  private final String name;
  private final int port;
  private final int managementPort;
  private final Process process;
  private final Path log;
  private final long startedAt;
  private volatile String instanceId;
  private volatile long readyAt;

  private ServiceProcess(
      String name, int port, int managementPort, Process process, Path log, long startedAt) {
    this.name = name;
    this.port = port;
    this.managementPort = managementPort;
    this.process = process;
    this.log = log;
    this.startedAt = startedAt;
  }

  /** The packaged service. */
  public static Path jar() {
    String jar = System.getProperty("tsm.jar");
    if (jar == null) {
      jar = "target/quarkus-app/quarkus-run.jar";
    }
    Path path = Path.of(jar);
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException(
          "no packaged service at " + path + ": run the ITs with ./mvnw verify (after package)");
    }
    return path;
  }

  public static Path logDir() {
    try {
      return Files.createDirectories(Path.of(System.getProperty("tsm.it.logs", "target/it-logs")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The environment that points the service at the test database. */
  public static Map<String, String> databaseEnv(TestDatabase.Pg pg) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("QUARKUS_DATASOURCE_JDBC_URL", pg.jdbcUrl());
    env.put(
        "QUARKUS_DATASOURCE_REACTIVE_URL",
        "postgresql://" + pg.host() + ":" + pg.port() + "/" + pg.database());
    env.put("QUARKUS_DATASOURCE_USERNAME", pg.user());
    return env;
  }

  /** Starts the service without waiting for it. {@code name} names its log file. */
  public static ServiceProcess start(String name, Map<String, String> env) {
    return start(name, env, List.of());
  }

  /**
   * The same with JVM options after the default ones; a later option wins, so {@code -Xmx192m}
   * replaces the default heap.
   */
  public static ServiceProcess start(
      String name, Map<String, String> env, List<String> jvmOptions) {
    int port = freePort();
    int n = STARTS.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    Path log = logDir().resolve(n == 1 ? name + ".log" : name + "-" + n + ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // C1 only and the serial collector: the service starts in about half the time on two busy
    // cores, which is what a test that restarts it ten times waits for.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-XX:+UseSerialGC");
    command.add("-Xmx512m");
    // Every replica of a test knows the same key (the test profile's keys are not packaged).
    command.add("-Dtsm.security.keys.it.key=" + KEY);
    command.add("-Dtsm.security.keys.it.roles=tsm-admin");
    command.add("-Dtsm.security.keys.alice.key=" + Auth.ALICE);
    command.add("-Dtsm.security.keys.bob.key=" + Auth.BOB);
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(jar().toAbsolutePath().toString());
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> childEnv = pb.environment();
    // Only what the test says configures the child.
    childEnv.keySet().removeIf(k -> k.startsWith("QUARKUS_") || k.startsWith("TSM_"));
    childEnv.put("QUARKUS_HTTP_PORT", Integer.toString(port));
    int management = freePort();
    childEnv.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
    childEnv.putAll(env);
    try {
      long startedAt = System.nanoTime();
      Process process = pb.start();
      LIVE.add(process);
      String label = log.getFileName().toString().replaceFirst("\\.log$", "");
      return new ServiceProcess(label, port, management, process, log, startedAt);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the service", e);
    }
  }

  /** Starts the service and waits until it is ready. */
  public static ServiceProcess startReady(String name, Map<String, String> env) {
    return start(name, env).awaitReady(Duration.ofSeconds(90));
  }

  /** Starts the service with JVM options and waits until it is ready. */
  public static ServiceProcess startReady(
      String name, Map<String, String> env, List<String> jvmOptions) {
    return start(name, env, jvmOptions).awaitReady(Duration.ofSeconds(90));
  }

  /** Waits for {@code /q/health/ready} to answer 200; fails early if the process died. */
  public ServiceProcess awaitReady(Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(
            name + " exited with " + process.exitValue() + " before it was ready:\n" + tail(40));
      }
      if (readyStatus() == 200) {
        readyAt = System.nanoTime();
        JsonPath live = JsonPath.from(get("/q/health/live").body());
        instanceId = live.getString("checks.find { it.name == 'task-runner' }.data.instance");
        return this;
      }
      Waits.pause(100);
    }
    throw new AssertionError(name + " not ready within " + atMost + ":\n" + tail(40));
  }

  /** The status of {@code /q/health/ready}, or -1 when nothing answers. */
  public int readyStatus() {
    try {
      HttpResponse<String> r =
          HTTP.send(
              request("/q/health/ready").timeout(Duration.ofSeconds(5)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** The task runner's instance id (owner tokens of its runs start with it and a slash). */
  public String instanceId() {
    return instanceId;
  }

  /** Whether {@code owner} is a run of this instance. */
  public boolean owns(String owner) {
    return owner != null && instanceId != null && owner.startsWith(instanceId + "/");
  }

  /** From process start to ready. */
  public Duration startupTime() {
    return Duration.ofNanos(readyAt - startedAt);
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path logFile() {
    return log;
  }

  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last lines of the log, for failure messages. */
  public String tail(int lines) {
    List<String> all = log().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** {@code kill -9}: no shutdown hook, no drain, connections cut. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(30));
    LIVE.remove(process);
  }

  /**
   * SIGTERM: a graceful stop. Returns how long the process took to exit; fails (and kills it) if it
   * did not exit within {@code atMost}.
   */
  public Duration terminate(Duration atMost) {
    long start = System.nanoTime();
    process.destroy();
    boolean exited = waitFor(atMost);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    if (!exited) {
      kill();
      throw new AssertionError(name + " did not exit within " + atMost + " of SIGTERM");
    }
    LIVE.remove(process);
    return took;
  }

  public int exitValue() {
    return process.exitValue();
  }

  /** {@code kill -STOP}: frozen, sockets open, nothing runs (a long GC pause, a suspended VM). */
  public void freeze() {
    signal("STOP");
  }

  /** {@code kill -CONT}: runs on from where it was frozen. */
  public void thaw() {
    signal("CONT");
  }

  private void signal(String signal) {
    try {
      Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private boolean waitFor(Duration atMost) {
    try {
      return process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      // SIGKILL ends a frozen process too.
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(30));
    }
    LIVE.remove(process);
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private HttpRequest.Builder request(String path) {
    // Health and metrics are on the management interface, the rest on the HTTP port.
    boolean management = path.startsWith("/q/health") || path.startsWith("/q/metrics");
    String base = management ? "http://127.0.0.1:" + managementPort : url();
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(REQUEST_TIMEOUT)
        .header("Authorization", Auth.bearer(KEY));
  }

  private static <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
    try {
      return HTTP.send(request, body);
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A request as the caller with {@code key} (alice and bob are known to every service). */
  public HttpResponse<String> as(
      String key, String method, String path, String contentType, HttpRequest.BodyPublisher body) {
    HttpRequest.Builder request =
        request(path).setHeader("Authorization", Auth.bearer(key)).timeout(Duration.ofMinutes(5));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return send(request.method(method, body).build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> as(String key, String method, String path) {
    return as(key, method, path, null, HttpRequest.BodyPublishers.noBody());
  }

  public HttpResponse<String> get(String path) {
    return send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> post(String path) {
    return send(
        request(path).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> postJson(String path, String json) {
    return send(
        request(path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** GET, expecting 200; the body as JSON. */
  public JsonPath json(String path) {
    HttpResponse<String> r = get(path);
    assertEquals(200, r.statusCode(), () -> "GET " + path + ": " + r.body());
    return JsonPath.from(r.body());
  }

  /** A command on a task ({@code pause}, {@code resume}, {@code terminate}); the response. */
  public HttpResponse<String> command(String taskId, String command) {
    return post("/tasks/" + taskId + "/" + command);
  }

  /** Starts an import of {@code file} (raw body, streamed from disk); returns the task id. */
  public String startImport(String table, Path file, Map<String, String> params) {
    Map<String, String> query = new LinkedHashMap<>();
    query.put("table", table);
    query.putAll(params);
    StringJoiner q = new StringJoiner("&", "?", "");
    query.forEach(
        (k, v) ->
            q.add(
                k
                    + "="
                    + java.net.URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20")));
    HttpResponse<String> r;
    try {
      r =
          send(
              request("/imports" + q)
                  .timeout(Duration.ofMinutes(5))
                  .header("Content-Type", "text/csv")
                  .POST(HttpRequest.BodyPublishers.ofFile(file))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (java.io.FileNotFoundException e) {
      throw new UncheckedIOException(e);
    }
    if (r.statusCode() != 202) {
      throw new AssertionError(
          "import of " + file + " answered " + r.statusCode() + ": " + r.body());
    }
    return JsonPath.from(r.body()).getString("id");
  }

  public String startImport(String table, Path file) {
    return startImport(table, file, Map.of());
  }

  /** Starts an export; {@code json} is the request body. Returns the task id. */
  public String startExport(String json) {
    HttpResponse<String> r = postJson("/exports", json);
    if (r.statusCode() != 202) {
      throw new AssertionError("export " + json + " answered " + r.statusCode() + ": " + r.body());
    }
    return JsonPath.from(r.body()).getString("id");
  }

  /** Downloads a finished export's file to {@code to}. */
  public Path download(String taskId, Path to) {
    HttpResponse<Path> r =
        send(
            request("/tasks/" + taskId + "/file").timeout(Duration.ofMinutes(5)).GET().build(),
            HttpResponse.BodyHandlers.ofFile(to));
    assertEquals(200, r.statusCode(), "download of " + taskId);
    return r.body();
  }

  /** Opens a streaming GET (Server-Sent Events); the caller reads and closes the body. */
  public HttpResponse<InputStream> stream(String path) {
    return send(
        HttpRequest.newBuilder(URI.create(url() + path))
            .header("Authorization", Auth.bearer(KEY))
            .header("Accept", "text/event-stream")
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofInputStream());
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Environment maps are built from pairs: {@code env("TSM_RUNNER_LEASE", "2s", ...)}. */
  public static Map<String, String> env(Map<String, String> base, String... pairs) {
    Map<String, String> env = new HashMap<>(base);
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  /** A TCP port free at the moment of asking. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ", port " + port + ", instance " + instanceId + ")";
  }
}
