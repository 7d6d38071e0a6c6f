package dev.tsm.support;

import io.tus.java.client.TusClient;
import java.net.HttpURLConnection;
import java.time.Duration;

/**
 * The independent tus client with every wait bounded: its connections have no read timeout of their
 * own, so an answer that never comes would hold a test forever; here it ends the request with a
 * {@link java.net.SocketTimeoutException}, as a cut does.
 */
public final class BoundedTusClient extends TusClient {
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

  @Override
  public void prepareConnection(HttpURLConnection connection) {
    super.prepareConnection(connection);
    connection.setReadTimeout((int) READ_TIMEOUT.toMillis());
  }
}
