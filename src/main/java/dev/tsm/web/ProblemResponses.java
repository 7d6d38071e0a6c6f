package dev.tsm.web;

import java.util.Set;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

/**
 * Every error response in the API description is an RFC 9457 problem, every operation can answer
 * 500 for what it did not expect and 503 while the database is away, and every 202 is the task;
 * every operation but the sign-in needs a bearer token (401 without), every POST can be refused as
 * cross-site (403), a table outside the caller's grants is 403, and a new task beyond the caller's
 * bound 429. Declared once here rather than on each operation's responses.
 */
public class ProblemResponses implements OASFilter {
  static final String SCHEME = "bearer";

  /** Operations anyone may call. */
  private static final Set<String> PUBLIC = Set.of("signIn", "signOut");

  /** Operations that name a table and create a task. */
  private static final Set<String> CREATES =
      Set.of("startImport", "uploadStart", "startExport", "downloadStart");

  @Override
  public void filterOpenAPI(OpenAPI openAPI) {
    if (openAPI.getComponents() == null) {
      openAPI.setComponents(OASFactory.createComponents());
    }
    openAPI
        .getComponents()
        .addSecurityScheme(
            SCHEME,
            OASFactory.createSecurityScheme()
                .type(SecurityScheme.Type.HTTP)
                .scheme("bearer")
                .description(
                    "An OpenID Connect access token of the configured provider, or an API key"
                        + " (tsm_...): the one printed at start, or one of tsm.security.keys"));
    SchemaRules.apply(openAPI);
  }

  @Override
  public Operation filterOperation(Operation operation) {
    if (operation.getResponses() == null || operation.getResponses().getAPIResponses() == null) {
      return operation;
    }
    String id = operation.getOperationId() == null ? "" : operation.getOperationId();
    if (!PUBLIC.contains(id)) {
      operation.addSecurityRequirement(OASFactory.createSecurityRequirement().addScheme(SCHEME));
      addIfMissing(
          operation,
          "401",
          "No credentials, or credentials that do not hold (unknown key; token with a bad"
              + " signature, expired, or for another audience)");
    }
    if (CREATES.contains(id)) {
      addIfMissing(
          operation,
          "403",
          "The caller's roles grant no right to this table (tsm.security.grants), or a"
              + " cross-site request");
      addIfMissing(
          operation,
          "429",
          "The caller has as many tasks PENDING or RUNNING as one owner may"
              + " (tsm.security.max-active-tasks-per-owner); Retry-After says when to try again");
    } else if (!PUBLIC.contains(id) && isPost(id)) {
      addIfMissing(
          operation,
          "403",
          "A cross-site request (another Origin, or a session cookie without the page's Origin)");
    }
    if (hasParameter(operation, "id") || hasParameter(operation, "taskId")) {
      addIfMissing(operation, "400", "The id is malformed: ids are UUIDs such as " + EXAMPLE_ID);
    }
    if (operation.getRequestBody() != null) {
      addIfMissing(operation, "415", "A Content-Type the operation does not take");
    }
    if (answersJson(operation)) {
      addIfMissing(operation, "406", "An Accept that admits no application/json");
    }
    addIfMissing(
        operation,
        "500",
        "An error the service did not expect, or one the database raised that a retry would meet"
            + " again: logged, and answered without SQL, class names or stack traces");
    if (!operation.getResponses().getAPIResponses().containsKey("503")) {
      // Everything here reads or writes PostgreSQL; while it is away the answer says so.
      operation
          .getResponses()
          .addAPIResponse(
              "503",
              OASFactory.createAPIResponse()
                  .description("The database is not available; retry shortly"));
    }
    operation
        .getResponses()
        .getAPIResponses()
        .forEach(
            (code, response) -> {
              if ("202".equals(code) && response.getContent() == null) {
                // Every 202 of this API answers with the task as it is now.
                response.setContent(
                    OASFactory.createContent()
                        .addMediaType(
                            "application/json",
                            OASFactory.createMediaType()
                                .schema(
                                    OASFactory.createSchema().ref("#/components/schemas/Task"))));
              }
              if ((code.startsWith("4") || code.startsWith("5"))
                  && response.getContent() != null
                  && response.getContent().getMediaType(Problem.MEDIA_TYPE) != null
                  && response.getContent().getMediaType(Problem.MEDIA_TYPE).getSchema() == null) {
                // Declared with an example only: the schema is still the problem's.
                response
                    .getContent()
                    .getMediaType(Problem.MEDIA_TYPE)
                    .setSchema(OASFactory.createSchema().ref("#/components/schemas/Problem"));
              }
              if ((code.startsWith("4") || code.startsWith("5")) && response.getContent() == null) {
                response.setContent(
                    OASFactory.createContent()
                        .addMediaType(
                            Problem.MEDIA_TYPE,
                            OASFactory.createMediaType()
                                .schema(
                                    OASFactory.createSchema()
                                        .ref("#/components/schemas/Problem"))));
              }
            });
    return operation;
  }

  private static final String EXAMPLE_ID = "0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10";

  private static boolean hasParameter(Operation operation, String name) {
    return operation.getParameters() != null
        && operation.getParameters().stream().anyMatch(p -> name.equals(p.getName()));
  }

  /** Whether the operation's success is JSON, which a request may refuse to accept (406). */
  private static boolean answersJson(Operation operation) {
    return operation.getResponses().getAPIResponses().entrySet().stream()
        .filter(e -> e.getKey().startsWith("2"))
        .map(e -> e.getValue().getContent())
        .filter(c -> c != null && c.getMediaTypes() != null)
        .anyMatch(c -> c.getMediaTypes().containsKey("application/json"));
  }

  private static boolean isPost(String id) {
    return id.endsWith("Pause")
        || id.endsWith("Resume")
        || id.endsWith("Terminate")
        || id.endsWith("Task") && !id.equals("getTask") && !id.equals("streamTask");
  }

  private static void addIfMissing(Operation operation, String code, String description) {
    if (!operation.getResponses().getAPIResponses().containsKey(code)) {
      operation
          .getResponses()
          .addAPIResponse(code, OASFactory.createAPIResponse().description(description));
    }
  }
}
