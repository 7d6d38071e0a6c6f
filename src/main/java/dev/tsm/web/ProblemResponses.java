package dev.tsm.web;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.Operation;

/**
 * Every error response in the API description is an RFC 9457 problem, every operation can answer
 * 503 while the database is away, and every 202 is the task: declared once here rather than on each
 * operation's responses.
 */
public class ProblemResponses implements OASFilter {
  @Override
  public Operation filterOperation(Operation operation) {
    if (operation.getResponses() == null || operation.getResponses().getAPIResponses() == null) {
      return operation;
    }
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
}
