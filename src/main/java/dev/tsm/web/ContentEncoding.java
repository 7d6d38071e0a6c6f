package dev.tsm.web;

import dev.tsm.Refusal;
import java.util.Locale;

/**
 * The Content-Encoding of an upload. The service decodes gzip itself, as the body arrives ({@code
 * quarkus.http.enable-decompression} stays off, so the size limits see the bytes sent): no other
 * coding is taken.
 */
final class ContentEncoding {
  private ContentEncoding() {}

  /** Whether a raw body is declared gzip: absent or identity, no; any other coding is a 400. */
  static boolean gzip(String header) {
    String coding = header == null ? "" : header.trim().toLowerCase(Locale.ROOT);
    return switch (coding) {
      case "", "identity" -> false;
      case "gzip", "x-gzip" -> true;
      default ->
          throw Refusal.invalid(
              "Content-Encoding '"
                  + header
                  + "' is not supported: send the CSV as it is, or gzip-compressed with"
                  + " Content-Encoding: gzip");
    };
  }

  /**
   * A multipart body is read as its framing arrives, so the framing itself cannot be compressed:
   * send a gzip file in the part instead.
   */
  static void checkMultipart(String header) {
    if (header != null && !header.isBlank() && !"identity".equalsIgnoreCase(header.trim())) {
      throw Refusal.invalid(
          "a multipart body cannot have a Content-Encoding ('"
              + header
              + "'): compress the file instead and send it in the part named 'file' (a .gz file"
              + " is decompressed)");
    }
  }
}
