package dev.tsm.web;

import dev.tsm.Refusal;
import dev.tsm.upload.IncomingBody;
import io.netty.handler.codec.DecoderException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;
import java.util.Locale;

/**
 * The part named {@value #PART} of a multipart/form-data body, read as it arrives: the same path as
 * a raw body, so the same limits hold, and nothing is staged by the HTTP layer. The upload ends
 * when the whole request has; any other file part is refused (400). The file may be gzip (see
 * {@link #declaresGzip()}). Used on the request's context.
 */
final class MultipartFile implements IncomingBody, ReadStream<Buffer> {
  static final String PART = "file";

  private final HttpServerRequest request;
  private final long declared;
  private HttpServerFileUpload file;
  private Handler<Buffer> dataHandler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private boolean paused;
  private boolean fileEnded;
  private boolean requestEnded;
  private boolean failed;

  MultipartFile(HttpServerRequest request, Long contentLength) {
    this.request = request;
    this.declared = contentLength == null ? -1 : contentLength;
  }

  @Override
  public ReadStream<Buffer> bytes() {
    return this;
  }

  @Override
  public boolean open() {
    try {
      request.setExpectMultipart(true);
    } catch (IllegalStateException e) {
      throw Refusal.invalid("the multipart body cannot be read: " + e.getMessage());
    }
    request.uploadHandler(this::part);
    request.exceptionHandler(this::broken);
    request.endHandler(
        v -> {
          requestEnded = true;
          if (file == null) {
            fail(
                Refusal.invalid(
                    "the multipart body needs a part named 'file' with the CSV (a file part,"
                        + " with a filename)"));
          } else {
            ended();
          }
        });
    RawBody.sendContinue(request);
    return true;
  }

  private void part(HttpServerFileUpload upload) {
    if (file != null || !PART.equals(upload.name())) {
      fail(
          Refusal.invalid(
              "the multipart body may hold one file, in a part named 'file'; it also has a file"
                  + " part named '"
                  + upload.name()
                  + "'"));
      return;
    }
    file = upload;
    upload.handler(
        chunk -> {
          if (!failed && dataHandler != null) {
            dataHandler.handle(chunk);
          }
        });
    upload.exceptionHandler(this::broken);
    upload.endHandler(
        v -> {
          fileEnded = true;
          ended();
        });
    if (paused) {
      upload.pause();
    }
  }

  /** The end of the upload: its file part and the request both ended. */
  private void ended() {
    if (fileEnded && requestEnded && !failed && endHandler != null) {
      endHandler.handle(null);
    }
  }

  /** A malformed body is the client's error; a broken connection is passed on as it is. */
  private void broken(Throwable e) {
    fail(
        e instanceof DecoderException
            ? Refusal.invalid("the multipart body is malformed: " + e.getMessage())
            : e);
  }

  private void fail(Throwable e) {
    if (failed) {
      return;
    }
    failed = true;
    if (exceptionHandler != null) {
      exceptionHandler.handle(e);
    }
  }

  @Override
  public long received() {
    return request.bytesRead();
  }

  @Override
  public long fileLength() {
    return -1; // the request's length includes the framing and other parts
  }

  /** A file named {@code *.gz}, or sent as {@code application/gzip}. */
  @Override
  public boolean declaresGzip() {
    if (file == null) {
      return false;
    }
    String name = file.filename() == null ? "" : file.filename().toLowerCase(Locale.ROOT);
    String type = file.contentType() == null ? "" : file.contentType().toLowerCase(Locale.ROOT);
    return name.endsWith(".gz")
        || type.startsWith("application/gzip")
        || type.startsWith("application/x-gzip");
  }

  @Override
  public long declaredLength() {
    return declared;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    dataHandler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    endHandler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    paused = true;
    request.pause();
    if (file != null) {
      file.pause();
    }
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    paused = false;
    if (file != null) {
      file.resume();
    }
    request.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    if (file != null) {
      file.fetch(amount);
    }
    request.fetch(amount);
    return this;
  }
}
