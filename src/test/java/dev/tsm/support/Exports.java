package dev.tsm.support;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.restassured.response.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Exports as a client starts and downloads them, and their psql references. */
public final class Exports {
  private Exports() {}

  /** Where the service writes export files in the test profile. */
  public static Path dir() {
    return Path.of("target", "test-files", "exports");
  }

  public static Path part(String id) {
    return dir().resolve(id + ".csv.part");
  }

  public static Path file(String id) {
    return dir().resolve(id + ".csv");
  }

  /** POST /exports; asserts 202 with a Location and an EXPORT task; returns the task id. */
  public static String start(Map<String, ?> body) {
    return start("/exports", body);
  }

  public static String start(String path, Map<String, ?> body) {
    Response r = given().contentType("application/json").body(body).post(path);
    if (r.statusCode() != 202) {
      throw new AssertionError(
          "export " + body + " answered " + r.statusCode() + ": " + r.asString());
    }
    String id = r.jsonPath().getString("id");
    assertEquals("EXPORT", r.jsonPath().getString("kind"), r.asString());
    assertEquals("/tasks/" + id, java.net.URI.create(r.header("Location")).getPath());
    return id;
  }

  /** GET /tasks/{id}/file, whole; asserts 200. */
  public static byte[] download(String id) {
    Response r = given().get("/tasks/" + id + "/file");
    assertEquals(200, r.statusCode(), () -> "download of " + id + ": " + r.asString());
    return r.asByteArray();
  }

  /**
   * A table {@code public.name} of {@code rows} rows of about 300 bytes of CSV, each with commas
   * and quotes to escape; returns psql's file of it, with its header.
   */
  public static byte[] labelledTable(String name, int rows) {
    Db.execute("CREATE TABLE public." + name + " (id bigint PRIMARY KEY, label text)");
    Db.execute(
        "INSERT INTO public."
            + name
            + " SELECT g, md5(g::text) || repeat(', \"q\" ', 30) || g FROM generate_series(1, "
            + rows
            + ") g");
    return reference(name, "SELECT * FROM public." + name + " ORDER BY id", ", HEADER");
  }

  /**
   * The reference: {@code psql \copy (select) TO file WITH (FORMAT csv options)}, its bytes.
   *
   * @param options e.g. {@code ", HEADER"} or {@code ", DELIMITER ';'"}
   */
  public static byte[] reference(String name, String select, String options) {
    Path file = CsvFiles.dir().resolve("ref-" + name + ".csv").toAbsolutePath();
    Db.psql(
        "\\copy ("
            + select
            + ") TO '"
            + file.toString().replace("'", "''")
            + "' WITH (FORMAT csv"
            + options
            + ")");
    return read(file);
  }

  public static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Byte for byte; on a difference, shows the first differing offset with text around it. */
  public static void assertSameBytes(byte[] expected, byte[] actual, String what) {
    if (Arrays.equals(expected, actual)) {
      return;
    }
    int n = Math.min(expected.length, actual.length);
    int at = 0;
    while (at < n && expected[at] == actual[at]) {
      at++;
    }
    fail(
        what
            + ": "
            + actual.length
            + " bytes, expected "
            + expected.length
            + "; first difference at byte "
            + at
            + "\n  expected: "
            + around(expected, at)
            + "\n  actual:   "
            + around(actual, at));
  }

  private static String around(byte[] bytes, int at) {
    int from = Math.max(0, at - 60);
    int to = Math.min(bytes.length, at + 60);
    return "…"
        + new String(bytes, from, to - from, StandardCharsets.UTF_8)
            .replace("\r", "\\r")
            .replace("\n", "\\n")
        + "…";
  }

  /** GET /tasks/{id}/file?follow=true as Alice, its body left to read. */
  public static HttpResponse<InputStream> follow(URL base, String id) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(base.toURI().resolve("tasks/" + id + "/file?follow=true"))
                .header("Authorization", Auth.bearer(Auth.ALICE))
                .timeout(java.time.Duration.ofMinutes(2))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
  }

  /** The whole body, read on another thread; fails with the IOException of a body cut short. */
  public static CompletableFuture<byte[]> readAll(HttpResponse<InputStream> response) {
    return CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = response.body()) {
                return in.readAllBytes();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            })
        .exceptionallyCompose(
            e ->
                CompletableFuture.failedFuture(
                    e.getCause() instanceof UncheckedIOException u ? u.getCause() : e));
  }
}
