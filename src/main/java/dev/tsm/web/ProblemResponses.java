package dev.tsm.web;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.Operation;

/**
 * Every error response in the API description is an RFC 9457 problem: declared once here rather
 * than on each operation's 4xx and 5xx responses.
 */
public class ProblemResponses implements OASFilter {
  @Override
  public Operation filterOperation(Operation operation) {
    if (operation.getResponses() == null || operation.getResponses().getAPIResponses() == null) {
      return operation;
    }
    operation
        .getResponses()
        .getAPIResponses()
        .forEach(
            (code, response) -> {
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
