package dev.tsm.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** An RFC 9457 problem body. */
@Schema(
    name = "Problem",
    description = "RFC 9457 problem details",
    requiredProperties = {"type", "title", "status", "detail"},
    example =
        "{\"type\": \"about:blank\", \"title\": \"Conflict\", \"status\": 409, \"detail\":"
            + " \"task 0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10 is COMPLETED and cannot be paused\","
            + " \"instance\": \"/tasks/0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10/pause\","
            + " \"state\": \"COMPLETED\"}")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
    @Schema(example = "about:blank") String type,
    @Schema(example = "Conflict") String title,
    @Schema(example = "409") int status,
    @Schema(example = "task 0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10 is COMPLETED and cannot be paused")
        String detail,
    @Schema(example = "/tasks/0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10/pause") String instance,
    @Schema(
            enumeration = {"PENDING", "RUNNING", "PAUSED", "COMPLETED", "FAILED", "TERMINATED"},
            description = "The task's current state, where a transition was refused")
        String state) {

  public static final String MEDIA_TYPE = "application/problem+json";

  static Response response(int status, String detail, String instance, String state) {
    Response.StatusType type = Response.Status.fromStatusCode(status);
    String title =
        type != null
            ? type.getReasonPhrase()
            : switch (status) {
              case 422 -> "Unprocessable Content";
              case 423 -> "Locked";
              case 460 -> "Checksum Mismatch";
              case 507 -> "Insufficient Storage";
              default -> "Error";
            };
    return Response.status(status)
        .type(MEDIA_TYPE)
        .entity(new Problem("about:blank", title, status, detail, instance, state))
        .build();
  }
}
