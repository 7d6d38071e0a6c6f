package dev.tsm.web;

import dev.tsm.upload.IncomingBody;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.streams.ReadStream;

/** A raw request body (text/csv): the file is the body itself, gzip if its Content-Encoding is. */
final class RawBody implements IncomingBody {
  private final HttpServerRequest request;
  private final long length;
  private final boolean gzip;

  RawBody(HttpServerRequest request, Long contentLength, boolean gzip) {
    this.request = request;
    this.length = contentLength == null ? -1 : contentLength;
    this.gzip = gzip;
  }

  @Override
  public ReadStream<Buffer> bytes() {
    return request;
  }

  @Override
  public boolean open() {
    if (request.isEnded()) {
      return false;
    }
    sendContinue(request);
    return true;
  }

  @Override
  public long received() {
    return request.bytesRead();
  }

  @Override
  public long fileLength() {
    return length;
  }

  @Override
  public boolean declaresGzip() {
    return gzip;
  }

  @Override
  public long declaredLength() {
    return length;
  }

  /**
   * A client that asked to be told before sending its body ({@code Expect: 100-continue}, as curl
   * does for large files) is told now that the service will read it. One refused earlier never gets
   * this, so it sends nothing.
   */
  static void sendContinue(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_1_0
        && "100-continue".equalsIgnoreCase(request.getHeader("Expect"))) {
      request.response().writeContinue();
    }
  }
}
