package dev.tsm.tus;

import dev.tsm.Refusal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code Upload-Checksum} of one request's bytes: an algorithm and the Base64 digest the client
 * computed. The bytes are kept only if the digest matches.
 */
record Checksum(String algorithm, byte[] expected) {
  /** The algorithms the service checks, by their names in the protocol. */
  static final Map<String, String> ALGORITHMS =
      Map.of("sha1", "SHA-1", "md5", "MD5", "sha256", "SHA-256", "sha512", "SHA-512");

  static final String NAMES = "sha1,sha256,sha512,md5";

  /** Null when the header is absent. */
  static Checksum parse(String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String[] parts = header.trim().split(" ");
    if (parts.length != 2) {
      throw Refusal.invalid(
          "Upload-Checksum must be an algorithm and a Base64 digest separated by a space");
    }
    String name = parts[0].toLowerCase(Locale.ROOT);
    if (!ALGORITHMS.containsKey(name)) {
      throw Refusal.invalid(
          "the checksum algorithm '" + parts[0] + "' is not supported; use one of " + NAMES);
    }
    try {
      return new Checksum(name, Base64.getDecoder().decode(parts[1]));
    } catch (IllegalArgumentException e) {
      throw Refusal.invalid("the digest in Upload-Checksum is not Base64: " + e.getMessage());
    }
  }

  MessageDigest digest() {
    try {
      return MessageDigest.getInstance(ALGORITHMS.get(algorithm));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  boolean matches(MessageDigest digest) {
    return MessageDigest.isEqual(expected, digest.digest());
  }
}
