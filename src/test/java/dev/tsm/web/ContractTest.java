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
