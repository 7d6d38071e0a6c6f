package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tsm.support.Api;
import dev.tsm.support.Contract;
import dev.tsm.support.CsvFiles;
import dev.tsm.support.TestDatabase;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.builder.ResponseBuilder;
import io.restassured.response.Response;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract filter ({@link Contract}) is in front of every request, passes the service's real
 * answers, and fails answers the document does not describe.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class ContractTest {
  private static final String CSV = "id,name\n1,a\n2,b\n";

  @Test
  void everyRequestGoesThroughTheContract() {
    assertTrue(Contract.installed(), "Contract is a global rest-assured filter");
    long before = Contract.get().checked();
    given().get("/tables").then().statusCode(200);
    io.restassured.RestAssured.given().get("/tasks").then().statusCode(401);
    assertEquals(before + 2, Contract.get().checked(), "both answers were checked");
  }

  @Test
  void theServicesAnswerPassesAndAlteredOnesFail() {
    String id = Api.startImport("contract_ok", CsvFiles.write("contract_ok.csv", CSV));
    Api.awaitState(id, "COMPLETED");
    Response real = given().get("/tasks/" + id);
    Contract contract = Contract.get();
    assertEquals(List.of(), contract.check("GET", "/tasks/" + id, real));

    // A field of the wrong type, a state outside the enum, a required field missing.
    String body = real.asString();
    assertWrong(contract, real, body.replace("\"rowsDone\":2", "\"rowsDone\":\"2\""), "rowsDone");
    assertWrong(contract, real, body.replace("\"COMPLETED\"", "\"DONE\""), "state");
    assertWrong(contract, real, body.replace("\"table\":", "\"tableName\":"), "table");
    assertWrong(contract, real, body.replace("\"error\":null", "\"error\":7"), "error");

    // A status the operation does not declare, a content type it does not declare.
    Response teapot = new ResponseBuilder().clone(real).setStatusCode(418).build();
    assertFalse(contract.check("GET", "/tasks/" + id, teapot).isEmpty(), "an undeclared status");
    Response html =
        new ResponseBuilder().clone(real).setContentType("text/html").setBody("<p>hi</p>").build();
    assertFalse(contract.check("GET", "/tasks/" + id, html).isEmpty(), "an undeclared type");
    // An error that is not a problem.
    Response plain =
        new ResponseBuilder()
            .clone(real)
            .setStatusCode(404)
            .setContentType("text/plain")
            .setBody("not found")
            .build();
    assertFalse(contract.check("GET", "/tasks/" + id, plain).isEmpty(), "a 404 not a problem");
  }

  @Test
  void tasksInEveryStateMatchTheDocument() {
    // Each answer below passes the contract filter; the states seen are all there are.
    java.util.Set<String> seen = new java.util.TreeSet<>();
    StringBuilder big = new StringBuilder("id,note\n");
    for (int i = 1; i <= 60_000; i++) {
      big.append(i).append(",row ").append(i).append('\n');
    }
    Response created =
        given()
            .contentType("text/csv")
            .queryParam("table", "contract_states")
            .body(big.toString())
            .post("/imports");
    assertEquals(202, created.statusCode(), created.asString());
    seen.add(created.jsonPath().getString("state"));
    String running = created.jsonPath().getString("id");
    seen.add(Api.awaitRows(running, 1).getString("state"));
    io.restassured.path.json.JsonPath paused = Api.pauseAt(running, 500);
    assertTrue(paused != null, "the import was paused before it completed");
    seen.add(paused.getString("state"));
    assertEquals(202, Api.command(running, "terminate").statusCode());
    seen.add(Api.awaitState(running, "TERMINATED").getString("state"));

    String failing =
        Api.startImport("contract_failed", CsvFiles.write("contract_failed.csv", "a,b\n1,2\n3\n"));
    io.restassured.path.json.JsonPath failed = Api.awaitState(failing, "FAILED");
    seen.add(failed.getString("state"));
    assertTrue(failed.getString("error") != null, failed.prettify());

    String done = Api.startImport("contract_done", CsvFiles.write("contract_done.csv", CSV));
    seen.add(Api.awaitState(done, "COMPLETED").getString("state"));
    String export = dev.tsm.support.Exports.start(java.util.Map.of("table", "contract_done"));
    seen.add(Api.awaitState(export, "COMPLETED").getString("state"));
    given().get("/tasks").then().statusCode(200);
    // PENDING is what a 202 mostly says, unless the runner took the task first: not asserted.
    assertTrue(
        seen.containsAll(List.of("COMPLETED", "FAILED", "PAUSED", "RUNNING", "TERMINATED")),
        seen.toString());
  }

  @Test
  void downloadsAnswerWhateverAcceptAClientSends() {
    String imported = Api.startImport("contract_dl", CsvFiles.write("contract_dl.csv", CSV));
    Api.awaitState(imported, "COMPLETED");
    String export = dev.tsm.support.Exports.start(java.util.Map.of("table", "contract_dl"));
    Api.awaitState(export, "COMPLETED");
    for (String accept :
        List.of("application/problem+json", "application/json", "text/csv", "*/*")) {
      Response file = given().accept(accept).get("/tasks/" + export + "/file");
      assertEquals(200, file.statusCode(), accept + ": " + file.asString());
      assertEquals("text/csv", file.contentType().split(";")[0], accept);
      assertEquals(CSV, file.asString(), accept);
      Response rejects = given().accept(accept).get("/tasks/" + imported + "/rejects");
      assertEquals(200, rejects.statusCode(), accept + ": " + rejects.asString());
      assertTrue(rejects.asString().startsWith("line,reason,record"), rejects.asString());
    }
    // 304 only to a conditional request; a plain one gets the file again.
    Response first = given().get("/tasks/" + export + "/file");
    String etag = first.header("ETag");
    assertEquals(
        304, given().header("If-None-Match", etag).get("/tasks/" + export + "/file").statusCode());
    assertEquals(200, given().get("/tasks/" + export + "/file").statusCode());
  }

  @Test
  void aRequestWhoseAnswerBreaksTheDocumentFails() throws Exception {
    // The same filter over a document that says rowsDone is a string: the real answer breaks it,
    // and the request fails where the test made it.
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    ObjectNode doc = (ObjectNode) yaml.readTree(new File("docs/openapi.yaml"));
    ObjectNode rowsDone = (ObjectNode) doc.at("/components/schemas/Task/properties/rowsDone");
    rowsDone.put("type", "string");
    Path altered = Files.createTempFile("openapi-altered", ".yaml");
    yaml.writeValue(altered.toFile(), doc);
    String id = Api.startImport("contract_bad", CsvFiles.write("contract_bad.csv", CSV));
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> given().filter(Contract.of(altered.toFile())).get("/tasks/" + id));
    assertTrue(e.getMessage().contains("rowsDone"), e.getMessage());
  }

  private static void assertWrong(Contract contract, Response real, String body, String field) {
    Response altered = new ResponseBuilder().clone(real).setBody(body).build();
    List<String> wrong = contract.check("GET", "/tasks/x", altered);
    assertFalse(wrong.isEmpty(), "an answer with a wrong " + field + " passed: " + body);
    assertTrue(String.join(" ", wrong).contains(field), wrong.toString());
  }
}
