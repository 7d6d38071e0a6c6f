package dev.tsm.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Auth;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.oidc.server.OidcWiremockTestResource;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Access control over real HTTP, with an OpenID Connect provider in-process (its discovery document
 * and keys served over HTTP; tokens signed here with its private key, or with another key, expired,
 * or for another audience) beside the API keys of the test profile. Every endpoint: no credentials
 * and bad tokens 401; another owner's task 404; a table outside the caller's grants 403; the owner
 * and the administrator 2xx.
 */
@QuarkusTest
@TestProfile(SecurityTest.WithProvider.class)
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class SecurityTest {
  static final String ISSUER = "https://server.example.com";
  static final String AUDIENCE = "tsm";
  static final int MAX_ACTIVE = 3;
  static final String PUBLIC_URL = "https://tsm.example.test";

  /** The provider on, a small per-owner bound. */
  public static class WithProvider implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "quarkus.oidc.auth-server-url",
          "${keycloak.url}/realms/quarkus",
          "quarkus.oidc.client-id",
          AUDIENCE,
          "quarkus.oidc.token.issuer",
          ISSUER,
          // Users reach it through a proxy that ends TLS: its origin is the page's own.
          "tsm.security.public-url",
          PUBLIC_URL,
          "tsm.security.max-active-tasks-per-owner",
          String.valueOf(MAX_ACTIVE));
    }

    @Override
    public List<TestResourceEntry> testResources() {
      return List.of(new TestResourceEntry(OidcWiremockTestResource.class));
    }
  }

  @TestHTTPResource("/")
  URL base;

  private final List<String> started = new ArrayList<>();

  @BeforeAll
  static void tables() {
    Db.execute("DROP TABLE IF EXISTS public.sec_big, public.sec_small");
    // 200,000 rows in pages of 500 with a 50 ms pause after each: an export runs for 20 s.
    Db.execute(
        "CREATE TABLE public.sec_big AS SELECT g AS id, md5(g::text) AS v"
            + " FROM generate_series(1, 200000) g");
    Db.execute("ALTER TABLE public.sec_big ADD PRIMARY KEY (id)");
    Db.execute("CREATE TABLE public.sec_small AS SELECT g AS id FROM generate_series(1, 10) g");
    Db.execute("CREATE SCHEMA IF NOT EXISTS hidden");
  }

  @AfterEach
  void terminateLeftovers() {
    for (String id : started) {
      Auth.as(Auth.ROOT).post("/tasks/" + id + "/terminate");
    }
    started.clear();
  }

  // ---- Who is calling ------------------------------------------------------------------------

  /** Every endpoint, as a request that would succeed for the right caller. */
  private record Endpoint(String method, String path, String contentType, Object body) {
    Response send(RequestSpecification spec) {
      if (contentType != null) {
        spec = spec.contentType(contentType).body(body);
      }
      return spec.request(method, path);
    }

    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  private List<Endpoint> endpoints(String taskId, String exportId) {
    String csv = "id,name\n1,a\n";
    String exportBody = "{\"table\": \"sec_small\"}";
    return List.of(
        new Endpoint("GET", "/tasks", null, null),
        new Endpoint("GET", "/tasks/" + taskId, null, null),
        new Endpoint("POST", "/tasks/" + taskId + "/pause", null, null),
        new Endpoint("POST", "/tasks/" + taskId + "/resume", null, null),
        new Endpoint("POST", "/tasks/" + taskId + "/terminate", null, null),
        new Endpoint("GET", "/tasks/" + taskId + "/rejects", null, null),
        new Endpoint("GET", "/tasks/" + exportId + "/file", null, null),
        new Endpoint("GET", "/tasks/" + taskId + "/events", null, null),
        new Endpoint("GET", "/tasks/events", null, null),
        new Endpoint("GET", "/tables", null, null),
        new Endpoint("POST", "/imports?table=sec_any", "text/csv", csv),
        new Endpoint("POST", "/exports", "application/json", exportBody),
        new Endpoint("POST", "/upload/start?table=sec_any", "text/csv", csv),
        new Endpoint("POST", "/upload/pause?taskId=" + taskId, null, null),
        new Endpoint("POST", "/upload/resume?taskId=" + taskId, null, null),
        new Endpoint("POST", "/upload/terminate?taskId=" + taskId, null, null),
        new Endpoint("GET", "/upload/progress?taskId=" + taskId, null, null),
        new Endpoint("POST", "/download/start", "application/json", exportBody),
        new Endpoint("POST", "/download/pause?taskId=" + exportId, null, null),
        new Endpoint("POST", "/download/resume?taskId=" + exportId, null, null),
        new Endpoint("POST", "/download/terminate?taskId=" + exportId, null, null),
        new Endpoint("GET", "/download/progress?taskId=" + exportId, null, null));
  }

  @Test
  void everyEndpointRefusesCallersWithoutValidCredentials() throws Exception {
    String importId = completedImport(Auth.ALICE, "sec_cred_import");
    String exportId = completedExport(Auth.ALICE);
    Map<String, Function<RequestSpecification, RequestSpecification>> callers =
        Map.of(
            "no credentials", spec -> spec,
            "an unknown key", spec -> bearer(spec, "tsm_unknown_000000000000000000000000000"),
            "a token signed by another key", spec -> bearer(spec, foreignSignedToken()),
            "an expired token", spec -> bearer(spec, expiredToken()),
            "a token for another audience", spec -> bearer(spec, otherAudienceToken()),
            "garbage", spec -> bearer(spec, "not.a.token"),
            "a forged session cookie", spec -> spec.cookie("tsm_session", "YWxpY2U.eA.9.c2ln"));
    for (Endpoint endpoint : endpoints(importId, exportId)) {
      callers.forEach(
          (who, credentials) -> {
            Response r = endpoint.send(credentials.apply(RestAssured.given()));
            assertEquals(401, r.statusCode(), endpoint + " with " + who + ": " + r.asString());
            assertEquals("application/problem+json", r.contentType(), endpoint + " " + who);
            assertEquals(401, r.jsonPath().getInt("status"));
            assertNotNull(r.header("WWW-Authenticate"), endpoint + " " + who);
          });
    }
    assertEquals("COMPLETED", state(Auth.ROOT, importId), "nothing was changed");
  }

  @Test
  void aValidProviderTokenIsACaller() {
    String token = token(claims("carol", Set.of("tsm-user")));
    Response created =
        bearer(RestAssured.given(), token)
            .contentType("text/csv")
            .body("id\n1\n2\n")
            .post("/imports?table=sec_carol");
    assertEquals(202, created.statusCode(), created.asString());
    String id = created.jsonPath().getString("id");
    started.add(id);
    assertEquals("carol", created.jsonPath().getString("createdBy"));
    bearer(RestAssured.given(), token).get("/tasks/" + id).then().statusCode(200);
    Auth.as(Auth.ALICE).get("/tasks/" + id).then().statusCode(404);
    Auth.as(Auth.ROOT).get("/tasks/" + id).then().statusCode(200);
    // The provider's roles count: a token without tsm-user has no grants.
    bearer(RestAssured.given(), token(claims("dave", Set.of())))
        .contentType("text/csv")
        .body("id\n1\n")
        .post("/imports?table=sec_dave")
        .then()
        .statusCode(403);
  }

  // ---- What each caller may do ---------------------------------------------------------------

  @Test
  void anotherOwnersTaskIsInvisibleAndTheOwnerAndTheAdministratorReachIt() throws Exception {
    String importId = completedImport(Auth.ALICE, "sec_owner_import");
    String exportId = completedExport(Auth.ALICE);
    for (Endpoint endpoint : endpoints(importId, exportId)) {
      if (!endpoint.path().contains(importId) && !endpoint.path().contains(exportId)) {
        continue;
      }
      Response r = endpoint.send(Auth.as(Auth.BOB));
      assertEquals(404, r.statusCode(), endpoint + " as bob: " + r.asString());
      assertFalse(r.asString().contains("alice"), "nothing of the owner leaks: " + r.asString());
    }
    // Reads: the owner and the administrator get the task.
    for (String key : List.of(Auth.ALICE, Auth.ROOT)) {
      Auth.as(key).get("/tasks/" + importId).then().statusCode(200);
      Auth.as(key).get("/tasks/" + importId + "/rejects").then().statusCode(200);
      Auth.as(key).get("/tasks/" + exportId + "/file").then().statusCode(200);
      Auth.as(key).get("/upload/progress?taskId=" + importId).then().statusCode(200);
      Auth.as(key).get("/download/progress?taskId=" + exportId).then().statusCode(200);
      // The task is over: its stream answers 204 (no content, do not reconnect), not 404.
      Auth.as(key)
          .accept("text/event-stream")
          .get("/tasks/" + importId + "/events")
          .then()
          .statusCode(204);
    }
    // Lists: bob's has none of alice's tasks; the administrator's has them.
    List<String> bobs = Auth.as(Auth.BOB).get("/tasks?limit=1000").jsonPath().getList("id");
    assertFalse(bobs.contains(importId) || bobs.contains(exportId), "bob lists " + bobs);
    List<String> roots = Auth.as(Auth.ROOT).get("/tasks?limit=1000").jsonPath().getList("id");
    assertTrue(roots.contains(importId) && roots.contains(exportId), "the admin lists all");
    // The live stream of all tasks: bob's snapshot has none of alice's, the administrator's has.
    String bobsStream = String.join("\n", snapshot(Auth.BOB));
    assertFalse(bobsStream.contains(importId) || bobsStream.contains(exportId), bobsStream);
    String rootsStream = String.join("\n", snapshot(Auth.ROOT));
    assertTrue(rootsStream.contains(importId) && rootsStream.contains(exportId), "admin stream");
    // Without taskId, the compatibility endpoints act on the caller's own newest task.
    Response bobsNewest = Auth.as(Auth.BOB).get("/upload/progress");
    if (bobsNewest.statusCode() == 200) {
      assertEquals("bob", bobsNewest.jsonPath().getString("createdBy"));
    } else {
      assertEquals(404, bobsNewest.statusCode(), bobsNewest.asString());
    }
    Auth.as(Auth.BOB).post("/upload/terminate").then().statusCode(404);
    assertEquals("COMPLETED", state(Auth.ALICE, importId));
  }

  @Test
  void commandsWorkForTheOwnerAndTheAdministratorAndRecordWhoGaveThem() {
    for (String key : List.of(Auth.ALICE, Auth.ROOT)) {
      String id = longExport(Auth.ALICE);
      awaitState(key, id, "RUNNING");
      Auth.as(Auth.BOB).post("/tasks/" + id + "/pause").then().statusCode(404);
      Auth.as(key).post("/tasks/" + id + "/pause").then().statusCode(202);
      awaitState(key, id, "PAUSED");
      Response task = Auth.as(Auth.ALICE).get("/tasks/" + id);
      assertEquals("pause", task.jsonPath().getString("lastCommand.name"), task.asString());
      String subject = key.equals(Auth.ROOT) ? "root" : "alice";
      assertEquals(subject, task.jsonPath().getString("lastCommand.by"), task.asString());
      assertEquals("alice", task.jsonPath().getString("createdBy"));
      Auth.as(key).post("/download/resume?taskId=" + id).then().statusCode(202);
      Auth.as(key).post("/download/terminate?taskId=" + id).then().statusCode(202);
      awaitState(key, id, "TERMINATED");
      assertEquals(
          "terminate", Auth.as(Auth.ALICE).get("/tasks/" + id).jsonPath().get("lastCommand.name"));
    }
  }

  @Test
  void tablesOutsideTheCallersGrantsAreForbidden() {
    // The reader's role has no grants; alice's grants cover public only.
    for (Endpoint endpoint : endpoints("00000000-0000-0000-0000-000000000000", "x")) {
      if (endpoint.contentType() == null) {
        continue;
      }
      Response r = endpoint.send(Auth.as(Auth.READER));
      assertEquals(403, r.statusCode(), endpoint + " as reader: " + r.asString());
      assertEquals("application/problem+json", r.contentType());
      assertTrue(r.jsonPath().getString("detail").contains("tsm.security.grants"), r.asString());
    }
    assertEquals(List.of(), Auth.as(Auth.READER).get("/tables").jsonPath().getList("name"));
    List<String> alices = Auth.as(Auth.ALICE).get("/tables").jsonPath().getList("name");
    assertTrue(alices.contains("sec_small"), "alice lists the tables she may use: " + alices);
    // An administrator may use every table of the allowed schemas.
    Response admin =
        Auth.as(Auth.ROOT)
            .contentType("application/json")
            .body("{\"table\": \"sec_small\"}")
            .post("/exports");
    assertEquals(202, admin.statusCode(), admin.asString());
    assertFalse(Db.tableExists("public.sec_denied"), "nothing was created for the reader");
  }

  @Test
  void anOwnerHasABoundedNumberOfActiveTasks() {
    List<String> mine = new ArrayList<>();
    for (int i = 0; i < MAX_ACTIVE; i++) {
      mine.add(longExport(Auth.BOB));
    }
    Response refused =
        Auth.as(Auth.BOB)
            .contentType("application/json")
            .body("{\"table\": \"sec_small\"}")
            .post("/exports");
    assertEquals(429, refused.statusCode(), refused.asString());
    assertEquals("application/problem+json", refused.contentType());
    assertTrue(Integer.parseInt(refused.header("Retry-After")) > 0);
    Response upload =
        Auth.as(Auth.BOB).contentType("text/csv").body("id\n1\n").post("/imports?table=sec_bob");
    assertEquals(429, upload.statusCode(), upload.asString());
    // Others are not held back by bob's tasks; a paused task makes room.
    started.add(completedExport(Auth.ALICE));
    Auth.as(Auth.BOB).post("/tasks/" + mine.get(0) + "/pause").then().statusCode(202);
    awaitState(Auth.BOB, mine.get(0), "PAUSED");
    started.add(longExport(Auth.BOB));
  }

  // ---- The browser's rules -------------------------------------------------------------------

  @Test
  void aCrossSiteFormPostIsRefusedAndChangesNothing() {
    String id = longExport(Auth.ALICE);
    awaitState(Auth.ALICE, id, "RUNNING");
    String cookie = signIn(Auth.ALICE);
    Response crossSite =
        RestAssured.given()
            .cookie("tsm_session", cookie)
            .header("Origin", "http://evil.example")
            .contentType("application/x-www-form-urlencoded")
            .body("x=1")
            .post("/upload/terminate");
    assertEquals(403, crossSite.statusCode(), crossSite.asString());
    Response textPlain =
        RestAssured.given()
            .cookie("tsm_session", cookie)
            .header("Sec-Fetch-Site", "cross-site")
            .contentType("text/plain")
            .body("x")
            .post("/download/terminate?taskId=" + id);
    assertEquals(403, textPlain.statusCode(), textPlain.asString());
    Response noOrigin =
        RestAssured.given().cookie("tsm_session", cookie).post("/tasks/" + id + "/terminate");
    assertEquals(403, noOrigin.statusCode(), "a cookie alone does not make a command");
    assertEquals("RUNNING", state(Auth.ALICE, id), "nothing changed");
    assertNull(Auth.as(Auth.ALICE).get("/tasks/" + id).jsonPath().get("lastCommand"));
    // From the page itself, the same cookie works.
    String own = base.getProtocol() + "://" + base.getHost() + ":" + base.getPort();
    RestAssured.given()
        .cookie("tsm_session", cookie)
        .header("Origin", own)
        .post("/tasks/" + id + "/pause")
        .then()
        .statusCode(202);
    // Through the proxy users reach it by, the page's origin is the public address.
    RestAssured.given()
        .cookie("tsm_session", cookie)
        .header("Origin", PUBLIC_URL)
        .post("/tasks/" + id + "/resume")
        .then()
        .statusCode(202);
    // Reads with the cookie need no Origin (the page's EventSource cannot send headers).
    RestAssured.given().cookie("tsm_session", cookie).get("/tasks/" + id).then().statusCode(200);
  }

  @Test
  void theSignInLinkOpensAStrictHttpOnlySession() {
    Response r = RestAssured.given().redirects().follow(false).get("/signin?key=" + Auth.ALICE);
    assertEquals(303, r.statusCode());
    String setCookie = r.header("Set-Cookie");
    assertTrue(setCookie.contains("HttpOnly"), setCookie);
    assertTrue(setCookie.contains("SameSite=Strict"), setCookie);
    assertTrue(setCookie.contains("Secure"), "served over TLS at its public address: " + setCookie);
    assertEquals("/", URI.create(r.header("Location")).getPath(), "the key leaves the address");
    RestAssured.given()
        .redirects()
        .follow(false)
        .get("/signin?key=tsm_wrong_0000000000000000000000000000")
        .then()
        .statusCode(401);
    // Another site's link cannot sign the browser in as the key's holder.
    Response crossSite =
        RestAssured.given()
            .redirects()
            .follow(false)
            .header("Sec-Fetch-Site", "cross-site")
            .get("/signin?key=" + Auth.ALICE);
    assertEquals(403, crossSite.statusCode(), crossSite.asString());
    assertNull(crossSite.header("Set-Cookie"));
    String cookie = r.getCookie("tsm_session");
    List<String> tampered = List.of(cookie.replace("YWxpY2U", "Ym9i"), cookie + "x", "");
    for (String bad : tampered) {
      RestAssured.given().cookie("tsm_session", bad).get("/tasks").then().statusCode(401);
    }
  }

  @Test
  void thePageAndItsFilesCarrySecurityHeaders() {
    for (String path : List.of("/", "/app.js", "/tasks")) {
      Response r = Auth.as(Auth.ALICE).get(path);
      assertEquals("nosniff", r.header("X-Content-Type-Options"), path);
      String csp = r.header("Content-Security-Policy");
      assertNotNull(csp, path);
      assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
      assertEquals("no-referrer", r.header("Referrer-Policy"), path);
    }
    assertNull(RestAssured.given().get("/").header("Access-Control-Allow-Origin"));
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static RequestSpecification bearer(RequestSpecification spec, String token) {
    return spec.header("Authorization", "Bearer " + token);
  }

  private static JwtClaimsBuilder claims(String subject, Set<String> groups) {
    return Jwt.issuer(ISSUER)
        .subject(subject)
        .upn(subject)
        .groups(groups)
        .audience(AUDIENCE)
        .issuedAt(Instant.now())
        .expiresAt(Instant.now().plusSeconds(600));
  }

  private static String token(JwtClaimsBuilder claims) {
    return claims.jws().keyId("1").sign("privateKey.jwk");
  }

  private static String foreignSignedToken() {
    try {
      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048);
      return claims("alice", Set.of("tsm-user"))
          .jws()
          .keyId("1")
          .sign(rsa.generateKeyPair().getPrivate());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String expiredToken() {
    return token(
        claims("alice", Set.of("tsm-user"))
            .issuedAt(Instant.now().minusSeconds(7200))
            .expiresAt(Instant.now().minusSeconds(3600)));
  }

  private static String otherAudienceToken() {
    return token(claims("alice", Set.of("tsm-user")).audience("another-service"));
  }

  private String completedImport(String key, String table) {
    Db.execute("DROP TABLE IF EXISTS public." + table);
    Path file = CsvFiles.mixed(table + ".csv", 50, 3);
    Response r =
        Auth.as(key).contentType("text/csv").body(file.toFile()).post("/imports?table=" + table);
    assertEquals(202, r.statusCode(), r.asString());
    String id = r.jsonPath().getString("id");
    awaitState(key, id, "COMPLETED");
    return id;
  }

  private String completedExport(String key) {
    String id = export(key, "sec_small");
    awaitState(key, id, "COMPLETED");
    return id;
  }

  /** An export of 200,000 rows, throttled: it runs for about 20 s unless stopped. */
  private String longExport(String key) {
    String id = export(key, "sec_big");
    started.add(id);
    return id;
  }

  private static String export(String key, String table) {
    Response r =
        Auth.as(key)
            .contentType("application/json")
            .body("{\"table\": \"" + table + "\"}")
            .post("/exports");
    assertEquals(202, r.statusCode(), r.asString());
    return r.jsonPath().getString("id");
  }

  private static String state(String key, String id) {
    return Auth.as(key).get("/tasks/" + id).jsonPath().getString("state");
  }

  private static void awaitState(String key, String id, String state) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> state.equals(state(key, id)));
  }

  private static String signIn(String key) {
    Response r = RestAssured.given().redirects().follow(false).get("/signin?key=" + key);
    assertEquals(303, r.statusCode());
    return r.getCookie("tsm_session");
  }

  /** The data lines /tasks/events sends {@code key} within two seconds (its snapshot first). */
  private List<String> snapshot(String key) throws Exception {
    return dataLines(key, "/tasks/events", Integer.MAX_VALUE, Duration.ofSeconds(2));
  }

  /** The first event of a stream, as JSON fields. */
  /** Up to {@code max} {@code data:} lines of an event stream, read for at most {@code within}. */
  private List<String> dataLines(String key, String path, int max, Duration within)
      throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(base.toURI().resolve(path.substring(1)))
            .header("Authorization", Auth.bearer(key))
            .header("Accept", "text/event-stream")
            .timeout(java.time.Duration.ofSeconds(30))
            .build();
    HttpResponse<java.io.InputStream> r =
        HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode(), path);
    List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine();
                    line != null && lines.size() < max;
                    line = in.readLine()) {
                  if (line.startsWith("data:")) {
                    lines.add(line);
                  }
                }
              } catch (java.io.IOException e) {
                // the stream was closed below
              }
            });
    reader.start();
    reader.join(within.toMillis());
    r.body().close();
    return new ArrayList<>(lines);
  }
}
