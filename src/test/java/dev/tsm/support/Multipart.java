package dev.tsm.support;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** multipart/form-data bodies written byte by byte, as a browser or curl -F sends them. */
public final class Multipart {
  private static final String BOUNDARY = "----tsm-test-7MA4YWxkTrZu0gW";
  public static final String CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** A file part. */
  public Multipart file(String name, String filename, byte[] content) {
    return part(
        "Content-Disposition: form-data; name=\""
            + name
            + "\"; filename=\""
            + filename
            + "\"\r\nContent-Type: text/csv",
        content);
  }

  /** A plain field. */
  public Multipart field(String name, String value) {
    return part(
        "Content-Disposition: form-data; name=\"" + name + "\"",
        value.getBytes(StandardCharsets.UTF_8));
  }

  private Multipart part(String headers, byte[] content) {
    ascii("--" + BOUNDARY + "\r\n" + headers + "\r\n\r\n");
    out.writeBytes(content);
    ascii("\r\n");
    return this;
  }

  /** The body, closing boundary included. */
  public byte[] bytes() {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(out.toByteArray());
    body.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    return body.toByteArray();
  }

  private void ascii(String text) {
    out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
  }
}
