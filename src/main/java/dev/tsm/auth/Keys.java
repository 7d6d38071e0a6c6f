package dev.tsm.auth;

import dev.tsm.Config;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The API keys this instance accepts: those configured ({@code tsm.security.keys}) and, when no
 * OpenID Connect provider is configured, one generated at start for the person who started it (an
 * administrator; printed once as a sign-in link). Keys are held by their SHA-256 only, and looked
 * up by the digest of what a client sends.
 */
@ApplicationScoped
public class Keys {
  /** Every key starts so: a bearer token that does not is left to the OpenID Connect provider. */
  public static final String PREFIX = "tsm_";

  private static final int MIN_LENGTH = 32;

  /** The subject of the key generated at start. */
  public static final String LOCAL = "local";

  /** Whom a key authenticates. */
  public record Holder(String subject, Set<String> roles) {}

  private final Map<String, Holder> byDigest = new HashMap<>();
  private final String startKey;
  private final boolean providerConfigured;

  Keys(Config config) {
    config
        .security()
        .keys()
        .forEach(
            (subject, key) -> {
              String secret = key.key();
              if (secret.length() < MIN_LENGTH || !secret.startsWith(PREFIX)) {
                throw new IllegalArgumentException(
                    "tsm.security.keys."
                        + subject
                        + ".key must start with "
                        + PREFIX
                        + " and be at least "
                        + MIN_LENGTH
                        + " characters long");
              }
              byDigest.put(digest(secret), new Holder(subject, Set.copyOf(key.roles())));
            });
    providerConfigured = oidcConfigured();
    if (providerConfigured || config.security().open()) {
      startKey = null;
    } else {
      startKey = generate();
      byDigest.put(digest(startKey), new Holder(LOCAL, Set.of(config.security().adminRole())));
    }
  }

  /** Whom {@code key} authenticates, if anyone. */
  public Optional<Holder> holder(String key) {
    return Optional.ofNullable(byDigest.get(digest(key)));
  }

  /** The key generated at start, if this instance made one. */
  public Optional<String> startKey() {
    return Optional.ofNullable(startKey);
  }

  /** Whether an OpenID Connect provider verifies tokens here. */
  public boolean providerConfigured() {
    return providerConfigured;
  }

  private static boolean oidcConfigured() {
    org.eclipse.microprofile.config.Config mp = ConfigProvider.getConfig();
    boolean enabled =
        mp.getOptionalValue("quarkus.oidc.tenant-enabled", Boolean.class).orElse(true);
    return enabled
        && mp.getOptionalValue("quarkus.oidc.auth-server-url", String.class)
            .filter(url -> !url.isBlank())
            .isPresent();
  }

  private static String generate() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  static String digest(String secret) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
