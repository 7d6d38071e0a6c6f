package dev.tsm.web;

import dev.tsm.ProblemException;
import dev.tsm.db.DatabaseException;
import dev.tsm.task.TaskService;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error leaves the service as problem+json, from here: no class names, no stack traces. */
public class ProblemMapper {
  private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

  @ServerExceptionMapper
  public Response problem(ProblemException e, HttpServerRequest request) {
    String state =
        e instanceof TaskService.TransitionRefused refused ? refused.task().state().name() : null;
    Response response = Problem.response(e.status(), e.getMessage(), request.path(), state);
    if (e instanceof FileResource.RangeNotSatisfiable range) {
      response.getHeaders().putSingle("Content-Range", "bytes */" + range.size());
    }
    return response;
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e, HttpServerRequest request) {
    int status = e.getResponse().getStatus();
    String detail =
        switch (status) {
          case 404 -> "there is nothing at " + request.path();
          case 405 -> request.method() + " is not allowed on " + request.path();
          case 406 -> "this resource cannot answer in the media type asked for (Accept)";
          case 415 ->
              "this resource does not take a body of type " + request.getHeader("Content-Type");
          default -> e.getMessage();
        };
    return Problem.response(status, detail, request.path(), null);
  }

  @ServerExceptionMapper
  public Response database(DatabaseException e, HttpServerRequest request) {
    LOG.warnf("database error on %s: %s", request.path(), e.getMessage());
    return Problem.response(
        503, "the database is not available; try again shortly", request.path(), null);
  }

  @ServerExceptionMapper
  public Response unexpected(Exception e, HttpServerRequest request) {
    LOG.errorf(e, "unexpected error on %s %s", request.method(), request.path());
    return Problem.response(
        500, "the service failed to handle this request; it has been logged", request.path(), null);
  }
}
