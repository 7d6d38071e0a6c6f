package dev.tsm.tus;

import static dev.tsm.support.Tus.assertOffset;
import static dev.tsm.support.Tus.create;
import static dev.tsm.support.Tus.metadata;
import static dev.tsm.support.Tus.patch;
import static dev.tsm.support.Tus.taskOf;
import static dev.tsm.support.Tus.tus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.Auth;
import dev.tsm.support.BoundedTusClient;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.CuttingProxy;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Tus.Created;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.tus.java.client.ProtocolException;
import io.tus.java.client.TusClient;
import io.tus.java.client.TusURLMemoryStore;
import io.tus.java.client.TusUpload;
import io.tus.java.client.TusUploader;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Resumable uploads (tus 1.0) through an independent client and by hand: uploads cut at random byte
 * positions by a proxy, resumed, paused and parked while the bytes arrive, each result compared
 * with {@code psql \copy} of the whole file; and each protocol error with the status tus names.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ResumableUploadTest {
  @Inject ExpiredUploads expired;
  @Inject Decoders decoders;

  @Test
  void theTusJavaClientThroughACuttingProxyLoadsWhatPsqlLoads() throws Exception {
    for (long seed : new long[] {11, 12}) {
      String table = "tus_cut_" + seed;
      Path file = CsvFiles.mixed(table + ".csv", 40_000, seed);
      try (CuttingProxy proxy = new CuttingProxy(RestAssured.port, seed, 8, 700_000)) {
        uploadThroughCuts(file, table, proxy, seed);
        assertTrue(proxy.cuts() >= 4, "connections were cut: " + proxy.cuts());
      }
      String id = Db.awaitTaskOf(table);
      JsonPath done = Api.awaitState(id, Duration.ofSeconds(60), "COMPLETED");
      assertEquals(Files.size(file), done.getLong("upload.bytesReceived"));
      assertTrue(done.getBoolean("upload.complete"));
      Db.copyReference("ref_" + table, "public." + table, file, ", HEADER true");
      Db.assertSameRows("ref_" + table, "public." + table);
    }
  }

  /** Uploads with the tus client, starting again from the server's offset after every cut. */
  private static void uploadThroughCuts(Path file, String table, CuttingProxy proxy, long seed)
      throws Exception {
    TusClient client = new BoundedTusClient();
    client.setUploadCreationURL(new URL("http://127.0.0.1:" + proxy.port() + "/uploads"));
    client.enableResuming(new TusURLMemoryStore());
    client.setHeaders(Map.of("Authorization", Auth.bearer(Auth.ALICE)));
    TusUpload upload = new TusUpload(file.toFile());
    upload.setFingerprint(table + "-" + seed);
    upload.setMetadata(Map.of("filename", file.getFileName().toString(), "table", table));
    boolean paused = false;
    List<String> cuts = new ArrayList<>();
    for (int attempt = 0; attempt < 60; attempt++) {
      try {
        TusUploader uploader = client.resumeOrCreateUpload(upload);
        uploader.setChunkSize(64 * 1024);
        uploader.setRequestPayloadSize(512 * 1024);
        while (uploader.uploadChunk() > -1) {
          if (!paused && uploader.getOffset() > Files.size(file) / 2) {
            // Pause the import while the upload goes on: chunks are still taken.
            String id = Db.awaitTaskOf(table);
            Api.command(id, "pause").then().statusCode(202);
            Api.awaitState(id, "PAUSED");
            Api.command(id, "resume").then().statusCode(202);
            paused = true;
          }
        }
        uploader.finish();
        return;
      } catch (IOException | ProtocolException e) {
        // A cut: the next attempt asks the offset (HEAD) and continues from there.
        cuts.add("attempt " + attempt + ": " + e);
      }
    }
    throw new AssertionError(
        "the upload did not finish in 60 attempts:\n" + String.join("\n", cuts));
  }

  @Test
  void anImportWaitsForItsUploadHoldingNothingAndGoesOnWhenBytesArrive() throws IOException {
    Path file = CsvFiles.mixed("tus_park.csv", 40_000, 5);
    byte[] bytes = Files.readAllBytes(file);
    Created up = create("tus_park", bytes.length, null);
    int half = bytes.length / 2;
    patch(up.location(), 0, Arrays.copyOfRange(bytes, 0, half)).then().statusCode(204);
    JsonPath waiting =
        Waits.untilValue(
            Duration.ofSeconds(30),
            "the import waits for more bytes",
            () -> {
              JsonPath t = Api.task(up.taskId());
              return t.getBoolean("upload.waiting") ? t : null;
            });
    assertEquals("PENDING", waiting.getString("state"));
    assertEquals(half, waiting.getLong("upload.bytesReceived"));
    assertTrue(waiting.getLong("rowsDone") > 0, "loaded what arrived");
    assertEquals(
        null, Db.single("SELECT owner FROM tsm.task WHERE id = '" + up.taskId() + "'"), "owner");
    patch(up.location(), half, Arrays.copyOfRange(bytes, half, bytes.length))
        .then()
        .statusCode(204)
        .header("Upload-Offset", String.valueOf(bytes.length));
    Api.awaitState(up.taskId(), Duration.ofSeconds(60), "COMPLETED");
    Db.copyReference("ref_tus_park", "public.tus_park", file, ", HEADER true");
    Db.assertSameRows("ref_tus_park", "public.tus_park");
  }

  @Test
  void creationAnswersTheUploadTheTaskAndTheProtocolHeaders() {
    tus()
        .when()
        .options("/uploads")
        .then()
        .statusCode(204)
        .header("Tus-Resumable", "1.0.0")
        .header("Tus-Version", "1.0.0")
        .header("Tus-Extension", org.hamcrest.Matchers.containsString("checksum"))
        .header("Tus-Checksum-Algorithm", org.hamcrest.Matchers.containsString("sha1"));
    Created up = create("tus_head", 10, null);
    tus()
        .when()
        .head(up.location())
        .then()
        .statusCode(200)
        .header("Upload-Offset", "0")
        .header("Upload-Length", "10")
        .header("Cache-Control", "no-store")
        .header("Upload-Expires", org.hamcrest.Matchers.endsWith("GMT"));
    JsonPath task = Api.task(up.taskId());
    assertEquals("PENDING", task.getString("state"));
    assertEquals(up.location(), "/uploads/" + task.getString("upload.id"));
    assertEquals(0, task.getLong("upload.bytesReceived"));
  }

  @Test
  void creationWithUploadAndDeferredLength() {
    byte[] csv = "a,b\n1,x\n2,y\n".getBytes(StandardCharsets.UTF_8);
    Response created =
        tus()
            .header("Upload-Defer-Length", "1")
            .header("Upload-Metadata", metadata("tus_deferred", null))
            .contentType("application/offset+octet-stream")
            .body(Arrays.copyOfRange(csv, 0, 5))
            .post("/uploads");
    created.then().statusCode(201).header("Upload-Offset", "5").header("Upload-Defer-Length", "1");
    String location = created.header("Location");
    tus()
        .header("Upload-Offset", "5")
        .header("Upload-Length", String.valueOf(csv.length))
        .contentType("application/offset+octet-stream")
        .body(Arrays.copyOfRange(csv, 5, csv.length))
        .patch(location)
        .then()
        .statusCode(204)
        .header("Upload-Offset", String.valueOf(csv.length));
    String id = taskOf(created);
    JsonPath done = Api.awaitState(id, "COMPLETED");
    assertEquals(2, done.getLong("rowsDone"));
    assertEquals(csv.length, done.getLong("upload.bytesTotal"));
  }

  @Test
  void eachProtocolErrorHasItsStatusAndKeepsTheOffset() throws Exception {
    byte[] csv = "a,b\n1,x\n2,y\n".getBytes(StandardCharsets.UTF_8);
    Created up = create("tus_errors", csv.length, null);
    byte[] first = Arrays.copyOfRange(csv, 0, 4);

    // No protocol version, or another: 412 naming the supported one.
    RestAssured.given()
        .header("Authorization", Auth.bearer(Auth.ALICE))
        .header("Upload-Offset", "0")
        .contentType("application/offset+octet-stream")
        .body(first)
        .patch(up.location())
        .then()
        .statusCode(412)
        .header("Tus-Version", "1.0.0")
        .contentType("application/problem+json");
    // Not the protocol's media type: 415.
    tus()
        .header("Upload-Offset", "0")
        .contentType("text/csv")
        .body(first)
        .patch(up.location())
        .then()
        .statusCode(415);
    // Wrong offset: 409.
    patch(up.location(), 3, first)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString("has 0 bytes"));
    // Checksum mismatch: 460, nothing kept.
    tus()
        .header("Upload-Offset", "0")
        .header("Upload-Checksum", "sha1 " + sha1("something else"))
        .contentType("application/offset+octet-stream")
        .body(first)
        .patch(up.location())
        .then()
        .statusCode(460)
        .contentType("application/problem+json");
    assertOffset(up.location(), 0);
    // An unknown algorithm: 400.
    tus()
        .header("Upload-Offset", "0")
        .header("Upload-Checksum", "crc99 AAAA")
        .contentType("application/offset+octet-stream")
        .body(first)
        .patch(up.location())
        .then()
        .statusCode(400);
    // The right checksum: kept.
    tus()
        .header("Upload-Offset", "0")
        .header("Upload-Checksum", "sha1 " + sha1(new String(first, StandardCharsets.UTF_8)))
        .contentType("application/offset+octet-stream")
        .body(first)
        .patch(up.location())
        .then()
        .statusCode(204)
        .header("Upload-Offset", "4");
    // More than declared: 413, nothing kept.
    patch(up.location(), 4, new byte[csv.length])
        .then()
        .statusCode(413)
        .contentType("application/problem+json");
    assertOffset(up.location(), 4);
    // Unknown upload, and another caller's: 404; an id that is not one: 400 that says so.
    tus().head("/uploads/7d1e3a58-0000-4000-8000-000000000000").then().statusCode(404);
    tus()
        .delete("/uploads/not-an-id")
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString("'not-an-id' is not an upload id"));
    RestAssured.given()
        .header("Authorization", Auth.bearer(Auth.BOB))
        .header("Tus-Resumable", "1.0.0")
        .head(up.location())
        .then()
        .statusCode(404);
    // The rest completes it; a complete upload takes nothing more (409).
    patch(up.location(), 4, Arrays.copyOfRange(csv, 4, csv.length)).then().statusCode(204);
    patch(up.location(), csv.length, new byte[1]).then().statusCode(409);
    assertEquals(2, Api.awaitState(up.taskId(), "COMPLETED").getLong("rowsDone"));
  }

  /**
   * A client whose last answer was lost asks again at the end of a complete upload, as the tus
   * client does: {@code Expect: 100-continue} and a chunked body. The answer comes once the body
   * ends (one sent before it left the tus client waiting for another answer forever); an empty body
   * changes nothing, a byte is more than the upload holds.
   */
  @Test
  void aRequestAtTheEndOfACompleteUploadIsAnsweredOnceItsBodyEnds() throws Exception {
    byte[] csv = "a,b\n1,x\n".getBytes(StandardCharsets.UTF_8);
    Created up = create("tus_asked_again", csv.length, null);
    patch(up.location(), 0, csv).then().statusCode(204);
    String head =
        askingPatch(up.location(), csv.length, "Transfer-Encoding: chunked\r\nConnection: close");
    for (String chunks : new String[] {"0\r\n\r\n", "1\r\nx\r\n0\r\n\r\n"}) {
      byte[] body = chunks.getBytes(StandardCharsets.US_ASCII);
      try (dev.tsm.support.SlowUpload request =
          dev.tsm.support.SlowUpload.open(RestAssured.port, head, body)) {
        assertTrue(request.head(Duration.ofSeconds(5)).startsWith("HTTP/1.1 100 Continue"));
        AssertionError early =
            org.junit.jupiter.api.Assertions.assertThrows(
                AssertionError.class, () -> request.head(Duration.ofMillis(500)));
        assertTrue(early.getMessage().startsWith("no answer within"), early.getMessage());
        request.send(body.length);
        dev.tsm.support.RawResponse answer = request.response(Duration.ofSeconds(10));
        if (body.length == 5) {
          assertEquals(204, answer.status(), answer.toString());
          assertEquals(String.valueOf(csv.length), answer.header("Upload-Offset"));
        } else {
          answer.assertProblem(409, "complete", csv.length + " bytes");
        }
      }
    }
    assertOffset(up.location(), csv.length);

    // The tus client that lost its last answer: it resumes at the end and finishes.
    TusClient client = new BoundedTusClient();
    client.setUploadCreationURL(new URL("http://127.0.0.1:" + RestAssured.port + "/uploads"));
    TusURLMemoryStore urls = new TusURLMemoryStore();
    urls.set("asked-again", new URL("http://127.0.0.1:" + RestAssured.port + up.location()));
    client.enableResuming(urls);
    client.setHeaders(Map.of("Authorization", Auth.bearer(Auth.ALICE)));
    TusUpload upload = new TusUpload(CsvFiles.write("tus_asked_again.csv", csv).toFile());
    upload.setFingerprint("asked-again");
    TusUploader uploader = client.resumeOrCreateUpload(upload);
    assertEquals(csv.length, uploader.getOffset());
    assertEquals(-1, uploader.uploadChunk());
    uploader.finish();
    assertEquals(1, Api.awaitState(up.taskId(), "COMPLETED").getLong("rowsDone"));
  }

  /**
   * A PATCH that asks first ({@code Expect: 100-continue}) and is refused at its offset or its
   * length is answered before it sends its body, and never told to go on.
   */
  @Test
  void aRefusedPatchIsAnsweredBeforeItSendsItsBody() {
    byte[] csv = "a,b\n1,x\n2,y\n".getBytes(StandardCharsets.UTF_8);
    Created up = create("tus_asks_first", csv.length, null);
    patch(up.location(), 0, Arrays.copyOf(csv, 4)).then().statusCode(204);
    for (int[] offsetAndLength : new int[][] {{0, 4}, {4, csv.length}}) {
      String head =
          askingPatch(up.location(), offsetAndLength[0], "Content-Length: " + offsetAndLength[1]);
      try (dev.tsm.support.SlowUpload request =
          dev.tsm.support.SlowUpload.open(RestAssured.port, head, new byte[offsetAndLength[1]])) {
        String answer = request.head(Duration.ofSeconds(5));
        String expected = offsetAndLength[0] == 0 ? "HTTP/1.1 409" : "HTTP/1.1 413";
        assertTrue(answer.startsWith(expected), "answered before the body: " + answer);
        assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), answer);
      }
    }
    assertOffset(up.location(), 4);
  }

  /** A PATCH's head that asks before its body ({@code Expect: 100-continue}), with more lines. */
  private static String askingPatch(String location, long offset, String more) {
    return "PATCH "
        + location
        + " HTTP/1.1\r\nHost: localhost\r\n"
        + Auth.headerLine()
        + "Tus-Resumable: 1.0.0\r\nUpload-Offset: "
        + offset
        + "\r\nContent-Type: application/offset+octet-stream\r\nExpect: 100-continue\r\n"
        + more
        + "\r\n\r\n";
  }

  @Test
  void twoRequestsWritingOneUploadAtOnceGetLocked() throws Exception {
    byte[] csv = "a,b\n1,x\n2,y\n".getBytes(StandardCharsets.UTF_8);
    Created up = create("tus_locked", csv.length, null);
    String head =
        "PATCH "
            + up.location()
            + " HTTP/1.1\r\nHost: localhost\r\n"
            + Auth.headerLine()
            + "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
            + "Content-Type: application/offset+octet-stream\r\nContent-Length: "
            + csv.length
            + "\r\nConnection: close\r\n\r\n";
    try (dev.tsm.support.SlowUpload slow =
        dev.tsm.support.SlowUpload.open(RestAssured.port, head, csv)) {
      slow.send(3);
      Waits.until(
          Duration.ofSeconds(10),
          "the first request holds the upload",
          () ->
              Db.single("SELECT writer FROM tsm.upload WHERE id = '" + up.uploadId() + "'")
                  != null);
      patch(up.location(), 0, csv).then().statusCode(423).contentType("application/problem+json");
      String answer = slow.finish();
      assertTrue(answer.startsWith("HTTP/1.1 204"), answer);
    }
    assertOffset(up.location(), csv.length);
    Api.awaitState(up.taskId(), "COMPLETED");
  }

  @Test
  void terminatingMidUploadLeavesNothingBehind() throws IOException {
    Path file = CsvFiles.mixed("tus_gone.csv", 40_000, 9);
    byte[] bytes = Files.readAllBytes(file);
    Created up = create("tus_gone", bytes.length, null);
    patch(up.location(), 0, Arrays.copyOfRange(bytes, 0, bytes.length / 2)).then().statusCode(204);
    Api.awaitRows(up.taskId(), 1);
    tus().delete(up.location()).then().statusCode(204);
    JsonPath gone = Api.awaitState(up.taskId(), "TERMINATED");
    assertFalse(Db.tableExists("public.tus_gone"));
    assertNoStagingTable(up.taskId());
    tus().head(up.location()).then().statusCode(410);
    patch(up.location(), bytes.length / 2, new byte[10]).then().statusCode(410);
    assertNotNull(gone.getString("id"));
    Waits.until(
        Duration.ofSeconds(10),
        "the upload's bytes are deleted",
        () -> !Files.exists(Path.of("target", "test-files", "imports", up.taskId() + ".csv")));
  }

  @Test
  void anUploadThatExpiresTerminatesItsImport() {
    Created up = create("tus_expired", 100, null);
    patch(up.location(), 0, "a,b\n1,x\n".getBytes(StandardCharsets.UTF_8)).then().statusCode(204);
    Db.execute(
        "UPDATE tsm.upload SET expires_at = now() - interval '1 second' WHERE id = '"
            + up.uploadId()
            + "'");
    assertTrue(expired.sweep() >= 1);
    tus().head(up.location()).then().statusCode(410);
    patch(up.location(), 8, new byte[4])
        .then()
        .statusCode(410)
        .body("detail", org.hamcrest.Matchers.containsString("expired"));
    JsonPath task = Api.awaitState(up.taskId(), "TERMINATED");
    assertTrue(task.getString("error").contains("expired"), task.getString("error"));
  }

  @Test
  void aFileThatCannotBeImportedEndsItsTaskWithTheReason() {
    byte[] csv = "a,b\n".getBytes(StandardCharsets.UTF_8); // a header and no data
    Created up = create("tus_bad_header", csv.length, null);
    patch(up.location(), 0, csv)
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", org.hamcrest.Matchers.containsString("terminated"));
    JsonPath task = Api.awaitState(up.taskId(), "TERMINATED");
    assertNotNull(task.getString("error"));
    tus()
        .header("Upload-Metadata", metadata("tus_no_table", null).replace("table", "tablex"))
        .header("Upload-Length", "10")
        .post("/uploads")
        .then()
        .statusCode(400)
        .body("detail", org.hamcrest.Matchers.containsString("table"));
    tus()
        .header("Upload-Metadata", metadata("bad name;", null))
        .header("Upload-Length", "10")
        .post("/uploads")
        .then()
        .statusCode(400);
    tus()
        .header("Upload-Metadata", metadata("tus_no_length", null))
        .post("/uploads")
        .then()
        .statusCode(400);
  }

  @Test
  void hostileHeadersAreRefusedBeforeAnythingIsStored() {
    long before = Db.count("SELECT count(*) FROM tsm.upload");
    String[][] cases = {
      {"Upload-Length", "-1"},
      {"Upload-Length", "12abc"},
      {"Upload-Length", "99999999999999999999999"},
      {"Upload-Metadata", "table " + "QUFB".repeat(3000)},
      {"Upload-Metadata", "table not-base64!"},
      {"Upload-Metadata", "table " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff})},
      {"Upload-Metadata", metadata("t1", Map.of("mode", "replace-everything"))},
      {"Upload-Metadata", "table dDE=,table dDI="},
    };
    for (String[] c : cases) {
      RequestSpecification r = tus().header(c[0], c[1]);
      if (!c[0].equals("Upload-Length")) {
        r = r.header("Upload-Length", "10");
      }
      if (!c[0].equals("Upload-Metadata")) {
        r = r.header("Upload-Metadata", metadata("t1", null));
      }
      r.post("/uploads")
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .header("Tus-Resumable", "1.0.0");
    }
    // Over the size limit (4M in tests): 413 at creation.
    tus()
        .header("Upload-Length", String.valueOf(64L << 20))
        .header("Upload-Metadata", metadata("t1", null))
        .post("/uploads")
        .then()
        .statusCode(413);
    // A malformed id: 400.
    tus().head("/uploads/not-an-id").then().statusCode(400);
    assertEquals(before, Db.count("SELECT count(*) FROM tsm.upload"), "nothing stored");
    // Without credentials: 401, but the protocol's description is public.
    RestAssured.given()
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .header("Upload-Metadata", metadata("t1", null))
        .post("/uploads")
        .then()
        .statusCode(401);
    RestAssured.given().options("/uploads").then().statusCode(204).header("Tus-Version", "1.0.0");
  }

  @Test
  void aGzipFileIsDecompressedAsItArrivesEvenWhenAnotherReplicaTakesOver() throws Exception {
    Path plain = CsvFiles.mixed("tus_gz.csv", 40_000, 21);
    byte[] gz = gzip(Files.readAllBytes(plain), 3);
    Created up = create("tus_gz", gz.length, Map.of("filename", "tus_gz.csv.gz"));
    int[] cuts = {0, gz.length / 5, gz.length / 2, gz.length * 4 / 5, gz.length};
    for (int i = 0; i + 1 < cuts.length; i++) {
      if (i == 2) {
        // As if the next request reached another replica: the decoder is rebuilt from disk.
        decoders.forget(java.util.UUID.fromString(up.uploadId()));
      }
      patch(up.location(), cuts[i], Arrays.copyOfRange(gz, cuts[i], cuts[i + 1]))
          .then()
          .statusCode(204)
          .header("Upload-Offset", String.valueOf(cuts[i + 1]));
    }
    JsonPath done = Api.awaitState(up.taskId(), Duration.ofSeconds(60), "COMPLETED");
    assertEquals(gz.length, done.getLong("upload.bytesReceived"));
    assertEquals(Files.size(plain), done.getLong("bytesTotal"), "the decompressed size");
    Db.copyReference("ref_tus_gz", "public.tus_gz", plain, ", HEADER true");
    Db.assertSameRows("ref_tus_gz", "public.tus_gz");
    assertFalse(
        Files.exists(Path.of("target", "test-files", "imports", up.taskId() + ".csv.gz")),
        "the compressed bytes are deleted once loaded");
  }

  @Test
  void aGzipFileRecognisedByItsFirstBytesThroughTheJavaClient() throws Exception {
    Path plain = CsvFiles.mixed("tus_magic.csv", 20_000, 22);
    Path gz = CsvFiles.write("tus_magic.bin", gzip(Files.readAllBytes(plain), 6));
    try (CuttingProxy proxy = new CuttingProxy(RestAssured.port, 23, 3, 200_000)) {
      uploadThroughCuts(gz, "tus_magic", proxy, 23);
    }
    String id = Db.awaitTaskOf("tus_magic");
    Api.awaitState(id, Duration.ofSeconds(60), "COMPLETED");
    Db.copyReference("ref_tus_magic", "public.tus_magic", plain, ", HEADER true");
    Db.assertSameRows("ref_tus_magic", "public.tus_magic");
  }

  @Test
  void aCorruptOrTruncatedGzipStreamEndsTheImportAndLeavesNothing() throws Exception {
    byte[] gz = gzip("a,b\n1,x\n2,y\n".repeat(2000).getBytes(StandardCharsets.UTF_8), 6);
    byte[] corrupt = gz.clone();
    corrupt[gz.length / 2] ^= 0x55;
    corrupt[gz.length / 2 + 1] ^= 0x55;
    Created bad = create("tus_gz_bad", corrupt.length, Map.of("filename", "x.csv.gz"));
    patch(bad.location(), 0, corrupt)
        .then()
        .statusCode(400)
        .body("detail", org.hamcrest.Matchers.containsString("gzip"));
    JsonPath failed = Api.awaitState(bad.taskId(), "TERMINATED");
    assertTrue(failed.getString("error").contains("gzip"), failed.getString("error"));
    assertFalse(Db.tableExists("public.tus_gz_bad"));

    byte[] cut = Arrays.copyOf(gz, gz.length - 6); // its trailer cut short
    Created truncated = create("tus_gz_cut", cut.length, Map.of("filename", "x.csv.gz"));
    patch(truncated.location(), 0, cut).then().statusCode(400);
    Api.awaitState(truncated.taskId(), "TERMINATED");
    assertFalse(Db.tableExists("public.tus_gz_cut"));
    assertNoStagingTable(bad.taskId());
    assertNoStagingTable(truncated.taskId());
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** The task's own staging table is gone (other tests' tasks may keep theirs). */
  static void assertNoStagingTable(String taskId) {
    String staging = "tsm.import_" + taskId.replace("-", "");
    Waits.until(
        Duration.ofSeconds(10), "no staging table " + staging, () -> !Db.tableExists(staging));
  }

  static byte[] gzip(byte[] plain, int level) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z =
        new java.util.zip.GZIPOutputStream(out) {
          {
            def.setLevel(level);
          }
        }) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  static String sha1(String text) throws Exception {
    return Base64.getEncoder()
        .encodeToString(
            MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
  }
}
