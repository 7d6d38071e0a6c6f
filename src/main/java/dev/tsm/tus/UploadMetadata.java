package dev.tsm.tus;

import dev.tsm.Refusal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code Upload-Metadata} header: comma-separated pairs of a key and a Base64 value (the value
 * may be absent). It carries the import's parameters ({@code table}, {@code mode}, ...) and the
 * file's name.
 */
final class UploadMetadata {
  /** A header longer than this is refused: it is read whole. */
  static final int MAX_LENGTH = 8192;

  private UploadMetadata() {}

  static Map<String, String> parse(String header) {
    Map<String, String> pairs = new LinkedHashMap<>();
    if (header == null || header.isBlank()) {
      return pairs;
    }
    if (header.length() > MAX_LENGTH) {
      throw Refusal.invalid("Upload-Metadata is longer than " + MAX_LENGTH + " characters");
    }
    for (String pair : header.split(",")) {
      String trimmed = pair.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int space = trimmed.indexOf(' ');
      String key = space < 0 ? trimmed : trimmed.substring(0, space);
      String value = space < 0 ? "" : decode(key, trimmed.substring(space + 1).trim());
      if (pairs.put(key, value) != null) {
        throw Refusal.invalid("Upload-Metadata names the key '" + key + "' twice");
      }
    }
    return pairs;
  }

  private static String decode(String key, String base64) {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw Refusal.invalid(
          "the value of '" + key + "' in Upload-Metadata is not Base64: " + e.getMessage());
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw Refusal.invalid("the value of '" + key + "' in Upload-Metadata is not UTF-8 text");
    }
  }
}
