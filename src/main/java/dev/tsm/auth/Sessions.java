package dev.tsm.auth;

import dev.tsm.Config;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The page's sessions: a cookie that carries its subject, roles and end, signed with HMAC-SHA256.
 * Nothing is stored server-side, so every replica that shares {@code tsm.security.session-secret}
 * accepts it. The cookie is HttpOnly and SameSite=Strict (Secure over TLS): scripts cannot read it
 * and other sites' requests do not carry it.
 */
@ApplicationScoped
public class Sessions {
  public static final String COOKIE = "tsm_session";

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final byte[] secret;
  private final Duration lifetime;

  Sessions(Config config) {
    this.secret =
        config
            .security()
            .sessionSecret()
            .map(s -> s.getBytes(StandardCharsets.UTF_8))
            .orElseGet(Sessions::random);
    if (secret.length < 32) {
      throw new IllegalArgumentException("tsm.security.session-secret must be 32 bytes or more");
    }
    this.lifetime = config.security().sessionLifetime();
  }

  /** A session of a signed-in caller. */
  public record Session(String subject, Set<String> roles, Instant end) {}

  /** The cookie's value for a new session of {@code subject}. */
  public String open(String subject, Set<String> roles) {
    Instant end = Instant.now().plus(lifetime);
    String payload =
        encode(subject) + "." + encode(String.join("\n", roles)) + "." + end.getEpochSecond();
    return payload + "." + B64.encodeToString(mac(payload));
  }

  public Duration lifetime() {
    return lifetime;
  }

  /** The session a cookie value carries, if it is signed here and not over. */
  public Optional<Session> read(String value) {
    if (value == null || value.length() > 8192) {
      return Optional.empty();
    }
    int sig = value.lastIndexOf('.');
    if (sig < 0) {
      return Optional.empty();
    }
    String payload = value.substring(0, sig);
    byte[] given;
    try {
      given = B64D.decode(value.substring(sig + 1));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(given, mac(payload))) {
      return Optional.empty();
    }
    String[] parts = payload.split("\\.", -1);
    if (parts.length != 3) {
      return Optional.empty();
    }
    Instant end = Instant.ofEpochSecond(Long.parseLong(parts[2]));
    if (!Instant.now().isBefore(end)) {
      return Optional.empty();
    }
    String roles = decode(parts[1]);
    Set<String> roleSet =
        roles.isEmpty() ? Set.of() : new LinkedHashSet<>(Arrays.asList(roles.split("\n")));
    return Optional.of(new Session(decode(parts[0]), roleSet, end));
  }

  private byte[] mac(String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String encode(String text) {
    return B64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String text) {
    return new String(B64D.decode(text), StandardCharsets.UTF_8);
  }

  private static byte[] random() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return bytes;
  }
}
