package dev.tsm.web;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.tsm.Refusal;
import dev.tsm.db.DatabaseErrors;
import dev.tsm.task.TaskService;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error leaves the service as problem+json, from here: no class names, no stack traces. An
 * answer given before the request's body was read closes the connection after it (see {@link
 * UnreadBody}).
 */
public class ProblemMapper {
  private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

  private final AllowedMethods allowed;

  ProblemMapper(AllowedMethods allowed) {
    this.allowed = allowed;
  }

  @ServerExceptionMapper
  public Response problem(Refusal e, RoutingContext routing) {
    HttpServerRequest request = routing.request();
    String state =
        e instanceof TaskService.TransitionRefused refused ? refused.task().state().name() : null;
    Response response = Problem.response(status(e.reason()), e.getMessage(), request.path(), state);
    if (e.retryAfterSeconds() > 0) {
      response.getHeaders().putSingle("Retry-After", String.valueOf(e.retryAfterSeconds()));
    }
    return answered(response, routing);
  }

  /** The one place where a reason to refuse becomes an HTTP status. */
  static int status(Refusal.Reason reason) {
    return switch (reason) {
      case INVALID -> 400;
      case NOT_FOUND -> 404;
      case CONFLICT -> 409;
      case GONE -> 410;
      case TOO_LARGE -> 413;
      case TIMED_OUT -> 408;
      case BUSY -> 503;
      case FORBIDDEN -> 403;
      case TOO_MANY -> 429;
      case NO_SPACE -> 507;
      case LOCKED -> 423;
      case CHECKSUM_MISMATCH -> 460; // tus 1.0, checksum extension
      case UNSUPPORTED_VERSION -> 412; // tus 1.0: Tus-Resumable names another version
      case UNPROCESSABLE -> 422;
    };
  }

  /**
   * 401: no credentials, or credentials that do not hold (unknown key, bad signature, expired,
   * wrong audience). The detail does not say which, so a guesser learns nothing.
   */
  @ServerExceptionMapper({
    io.quarkus.security.UnauthorizedException.class,
    io.quarkus.security.AuthenticationFailedException.class,
    io.quarkus.security.AuthenticationCompletionException.class
  })
  public Response unauthorized(RuntimeException e, RoutingContext routing) {
    String detail =
        routing.request().getHeader("Authorization") == null
                && routing.request().getCookie(dev.tsm.auth.Sessions.COOKIE) == null
            ? "sign in: send 'Authorization: Bearer <token>' (an OpenID Connect access token or"
                + " an API key), or open the page through its sign-in link"
            : "the credentials sent are not valid (unknown, expired, or not meant for this"
                + " service); sign in again";
    Response response = Problem.response(401, detail, routing.request().path(), null);
    response.getHeaders().putSingle("WWW-Authenticate", "Bearer realm=\"tsm\"");
    return answered(response, routing);
  }

  /** 403: a role the endpoint requires is missing. */
  @ServerExceptionMapper
  public Response forbidden(io.quarkus.security.ForbiddenException e, RoutingContext routing) {
    return answered(
        Problem.response(
            403, "the caller's roles do not allow this request", routing.request().path(), null),
        routing);
  }

  /** 416 with the file's length in Content-Range, as RFC 9110 asks. */
  @ServerExceptionMapper
  public Response range(FileResource.RangeNotSatisfiable e, RoutingContext routing) {
    Response response = Problem.response(416, e.getMessage(), routing.request().path(), null);
    response.getHeaders().putSingle("Content-Range", "bytes */" + e.size());
    return answered(response, routing);
  }

  /**
   * A followed download whose export ended first: logged as what it is, without a stack. Once the
   * body has begun, the answer is the cut connection; before, it is the 409 of an ended export.
   */
  @ServerExceptionMapper
  public Response cutShort(FollowedExport.CutShort e, RoutingContext routing) {
    LOG.infof("%s: download cut short: %s", routing.request().path(), e.getMessage());
    return answered(Problem.response(409, e.getMessage(), routing.request().path(), null), routing);
  }

  /** The answer, marked to close the connection when the request's body is left unread. */
  private static Response answered(Response response, RoutingContext routing) {
    // 408: the client went silent, nothing more is coming to wait for.
    UnreadBody.answered(response, routing, response.getStatus() == 408);
    return response;
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e, RoutingContext routing) {
    HttpServerRequest request = routing.request();
    int status = e.getResponse().getStatus();
    if (status == 400 && e.getCause() instanceof JsonProcessingException json) {
      // The JSON reader wraps what it cannot parse as a bare "HTTP 400 Bad Request".
      return answered(
          Problem.response(
              400,
              "the body is not valid JSON"
                  + at(json.getLocation())
                  + ": "
                  + json.getOriginalMessage(),
              request.path(),
              null),
          routing);
    }
    String detail =
        switch (status) {
          case 404 -> "there is nothing at " + request.path();
          case 405 -> request.method() + " is not allowed on " + request.path();
          case 406 -> "this resource cannot answer in the media type asked for (Accept)";
          case 415 ->
              "this resource does not take a body of type " + request.getHeader("Content-Type");
          default -> e.getMessage();
        };
    Response response = Problem.response(status, detail, request.path(), null);
    if (status == 405) {
      // RFC 9110: a 405 names the methods the resource takes.
      String allow = e.getResponse().getHeaderString("Allow");
      if (allow == null || allow.isBlank()) {
        allow = String.join(", ", allowed.of(request.path()));
      }
      if (!allow.isBlank()) {
        response.getHeaders().putSingle("Allow", allow);
      }
    }
    return answered(response, routing);
  }

  /**
   * JSON of the wrong shape (an array for an object, text for a boolean): without this, Quarkus'
   * own mapper answers in a body of its own, or none, naming Java classes.
   */
  @ServerExceptionMapper
  public Response jsonShape(MismatchedInputException e, RoutingContext routing) {
    HttpServerRequest request = routing.request();
    String field =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."));
    String detail =
        field.isEmpty()
            ? "the body must be a JSON object" + at(e.getLocation())
            : "the body's field '" + field + "' has the wrong type" + at(e.getLocation());
    return answered(Problem.response(400, detail, request.path(), null), routing);
  }

  private static String at(JsonLocation location) {
    return location == null || location.getLineNr() < 1
        ? ""
        : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
  }

  /**
   * Everything else, the database's failures (DatabaseException, the reactive client's) included.
   */
  @ServerExceptionMapper
  public Response unexpected(Exception e, RoutingContext routing) {
    HttpServerRequest request = routing.request();
    return answered(failure(e, request.method().name(), request.path()), routing);
  }

  /**
   * The answer to a failure that is not the client's. 503 only for a database that cannot be
   * reached, where trying again shortly is the advice; an error the database answered with would
   * answer the same again: 500, its SQLSTATE and message in the log, neither in the answer.
   */
  static Response failure(Throwable e, String method, String path) {
    if (DatabaseErrors.unreachable(e)) {
      LOG.warnf("database unavailable on %s %s: %s", method, path, e.getMessage());
      return Problem.response(503, "the database is not available; try again shortly", path, null);
    }
    String state = DatabaseErrors.firstSqlState(e);
    if (state != null) {
      LOG.errorf(
          e, "database error on %s %s: SQLSTATE %s: %s", method, path, state, e.getMessage());
      return Problem.response(
          500,
          "a database error happened while handling this request; it has been logged",
          path,
          null);
    }
    LOG.errorf(e, "unexpected error on %s %s", method, path);
    return Problem.response(
        500, "the service failed to handle this request; it has been logged", path, null);
  }
}
