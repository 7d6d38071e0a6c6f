package dev.tsm.web;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * An answer given before the request's body was read (refused at once, or stopped on the way): the
 * connection is closed after it, so that nothing more of that body is waited for or stored. A
 * client still sending gets a short grace ({@link #LINGER_MILLIS}) in which what it sends is read
 * and dropped: closing a socket with unread bytes resets it, and the client could lose the answer.
 * One that went silent is closed at once.
 */
final class UnreadBody {
  /** How long a refused body is still read and dropped before the connection is closed. */
  static final long LINGER_MILLIS = 2000;

  private UnreadBody() {}

  /**
   * Whether the request has a body the service has not read to its end. If so, the connection will
   * be closed once the answer is written, and the answer must say {@code Connection: close}.
   */
  static boolean closeAfterAnswer(RoutingContext routing, boolean clientSilent) {
    HttpServerRequest request = routing.request();
    if (request.version() == HttpVersion.HTTP_2 || !hasBody(request) || request.isEnded()) {
      // HTTP/2 ends a stream on its own; closing the connection would end every other stream.
      return false;
    }
    Vertx vertx = routing.vertx();
    routing.addEndHandler(
        written -> {
          if (clientSilent || request.isEnded()) {
            request.connection().close();
          } else {
            drainThenClose(request, vertx);
          }
        });
    return true;
  }

  /**
   * Marks {@code response} to close the connection when the request's body is left unread; returns
   * whether it will be closed.
   */
  static boolean answered(
      jakarta.ws.rs.core.Response response, RoutingContext routing, boolean clientSilent) {
    if (!closeAfterAnswer(routing, clientSilent)) {
      return false;
    }
    if (!"close".equalsIgnoreCase(routing.request().getHeader("Connection"))) {
      response.getHeaders().putSingle("Connection", "close");
    }
    return true;
  }

  private static void drainThenClose(HttpServerRequest request, Vertx vertx) {
    long timer = vertx.setTimer(LINGER_MILLIS, t -> request.connection().close());
    request.handler(ignored -> {});
    request.exceptionHandler(ignored -> {});
    request.endHandler(
        v -> {
          vertx.cancelTimer(timer);
          request.connection().close();
        });
    request.resume();
  }

  private static boolean hasBody(HttpServerRequest request) {
    String length = request.getHeader("Content-Length");
    return request.getHeader("Transfer-Encoding") != null
        || length != null && !length.trim().equals("0");
  }
}
