package dev.tsm.tus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Api;
import dev.tsm.support.CallbackReceiver;
import dev.tsm.support.CallbackReceiver.Received;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import dev.tsm.support.Tus;
import dev.tsm.support.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The import's options as tus {@code Upload-Metadata} keys (docs/uploads.md): {@code types}, {@code
 * rename} and {@code callback} on an upload made in two PATCHes shape the table and call back as
 * they do on {@code POST /imports}.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class UploadOptionsTest {
  @Test
  void typesRenameAndCallbackInTheMetadataAreHonoured() {
    CallbackReceiver receiver = new CallbackReceiver(0, CallbackReceiver.TEST_SECRET);
    try {
      // Left alone, code would be an integer and amount a numeric of any scale.
      byte[] csv =
          "Zip Code,amount,code\n01001,12.5,7\n02002,-3,11\n03003,,42\n"
              .getBytes(StandardCharsets.UTF_8);
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("types", "amount:numeric(12,2),code:text");
      meta.put("rename", "Zip Code:zip");
      meta.put("callback", receiver.url());
      meta.put("filename", "zips.csv");
      Tus.Created up = Tus.create("tus_options", csv.length, meta);
      int half = csv.length / 2;
      Tus.patch(up.location(), 0, Arrays.copyOfRange(csv, 0, half)).then().statusCode(204);
      Tus.patch(up.location(), half, Arrays.copyOfRange(csv, half, csv.length))
          .then()
          .statusCode(204);
      JsonPath done = Api.awaitState(up.taskId(), "COMPLETED", "FAILED", "TERMINATED");
      assertEquals("COMPLETED", done.getString("state"), done.prettify());

      assertEquals(
          List.of(
              List.of("zip", "text"), List.of("amount", "numeric(12,2)"), List.of("code", "text")),
          Db.columns("tus_options"));
      assertEquals(
          List.of(
              Arrays.asList("01001", "12.50", "7"),
              Arrays.asList("02002", "-3.00", "11"),
              Arrays.asList("03003", null, "42")),
          Db.rows("SELECT zip, amount, code FROM tus_options ORDER BY zip"));

      JsonPath task =
          Waits.untilValue(
              Duration.ofSeconds(60),
              "the callback of " + up.taskId(),
              () -> {
                JsonPath t = Api.task(up.taskId());
                return "delivered".equals(t.getString("callback.deliveries[0].status")) ? t : null;
              });
      assertEquals(receiver.url(), task.getString("callback.url"));
      List<Received> got = receiver.of(up.taskId());
      assertEquals(1, got.size(), "one delivery: " + got);
      assertTrue(receiver.signedCorrectly(got.get(0)), "signed: " + got.get(0).signature());
      JsonObject body = new JsonObject(got.get(0).body());
      assertEquals("COMPLETED", body.getString("state"));
      assertEquals(3L, body.getLong("rowsDone"));
    } finally {
      receiver.stop();
    }
  }

  @Test
  void aBadTypeRenameOrCallbackInTheMetadataIsRefusedAtCreation() {
    Map<String, String[]> cases =
        Map.of(
            "no such type", new String[] {"types", "amount:nosuchtype", "nosuchtype"},
            "syntax", new String[] {"types", "amount:text); drop table x", "types"},
            "empty rename", new String[] {"rename", "Zip Code:", "rename"},
            "callback", new String[] {"callback", "ftp://example.com/x", "callback"});
    cases.forEach(
        (what, c) -> {
          var r =
              Tus.tus()
                  .header("Upload-Length", "10")
                  .header("Upload-Metadata", Tus.metadata("tus_bad_options", Map.of(c[0], c[1])))
                  .post("/uploads");
          dev.tsm.support.Problems.assertProblem(r, 400, c[2]);
        });
    assertEquals(0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name = 'tus_bad_options'"));
  }
}
