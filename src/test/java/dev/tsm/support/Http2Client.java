package dev.tsm.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.net.URL;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client that speaks HTTP/2 over plain TCP (prior knowledge) as Alice, all its requests on one
 * connection. A response it stalls is not consumed, so it grants no more flow-control window: the
 * service's stream stops while the connection stays open and usable.
 */
public final class Http2Client implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final URL base;
  private final HttpClient client;

  public Http2Client(URL base) {
    this.base = base;
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false)
                .setHttp2MaxPoolSize(1));
  }

  /** A response whose body is not read, and how its stream ended: null, or the failure. */
  public record Stalled(HttpClientResponse response, CompletableFuture<Throwable> ended) {}

  /** GET {@code path}, its response paused as it arrives. */
  public Stalled stall(String path) throws Exception {
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    HttpClientResponse response =
        await(
            send(path)
                .onSuccess(
                    r -> {
                      r.pause();
                      r.exceptionHandler(ended::complete);
                      r.endHandler(done -> ended.complete(null));
                    }));
    return new Stalled(response, ended);
  }

  /** A response read whole. */
  public record Answer(HttpClientResponse response, byte[] body) {}

  /**
   * GET {@code path}, its body read whole. The body is asked for as the head arrives: a response
   * left without a handler drops what comes meanwhile.
   */
  public Answer get(String path) throws Exception {
    return await(send(path).compose(r -> r.body().map(b -> new Answer(r, b.getBytes()))));
  }

  private Future<HttpClientResponse> send(String path) {
    return client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setHost(base.getHost())
                .setPort(base.getPort())
                .setURI(path)
                .putHeader("Authorization", Auth.bearer(Auth.ALICE)))
        .compose(HttpClientRequest::send);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
