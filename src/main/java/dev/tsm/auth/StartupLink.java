package dev.tsm.auth;

import dev.tsm.Config;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Says once, at start, how to get in: the sign-in link with the key generated for this start (the
 * embedded default, like a notebook server), or that the service runs open.
 */
public class StartupLink {
  private static final Logger LOG = Logger.getLogger(StartupLink.class);

  void print(@Observes StartupEvent start, Keys keys, Config config) {
    if (config.security().open()) {
      LOG.warn(
          "tsm.security.open=true: every caller is served without authentication, as an"
              + " administrator. Never expose this instance to anyone else.");
      return;
    }
    keys.startKey()
        .ifPresent(
            key -> {
              String base =
                  config
                      .security()
                      .publicUrl()
                      .orElseGet(
                          () ->
                              "http://localhost:"
                                  + ConfigProvider.getConfig()
                                      .getOptionalValue("quarkus.http.port", Integer.class)
                                      .orElse(8080));
              LOG.infof(
                  "No OpenID Connect provider is configured: sign in with %s/signin?key=%s (the"
                      + " page), or send 'Authorization: Bearer %s' (clients). The key is new at"
                      + " every start; configure tsm.security.keys or a provider to keep one.",
                  base.replaceAll("/$", ""), key, key);
            });
  }
}
