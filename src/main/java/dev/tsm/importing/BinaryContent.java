package dev.tsm.importing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tells a file that is not text at all (an image, an archive, a spreadsheet) from a CSV file with a
 * bad header, by its start: a known signature, or NUL and other control bytes in its first record
 * (at most its first KiB). A person who picked the wrong file learns that, rather than which byte
 * of its "header" is wrong. Only the first record: a text header followed by a row holding a NUL is
 * a CSV file, and its header's own error (too many fields, say) is what to fix first.
 */
final class BinaryContent {
  private static final int LOOK = 1024;

  /** The longest signature {@link #kind} knows: read whatever the first record's length. */
  private static final int SIGNATURE = 4;

  private BinaryContent() {}

  /**
   * What the file is when its start is not text ("a PNG image", "binary data"); else null.
   *
   * @param firstRecordEnd where the file's first record ends (its line end included)
   */
  static String of(Path file, long firstRecordEnd) {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes((int) Math.max(SIGNATURE, Math.min(LOOK, firstRecordEnd)));
    } catch (IOException e) {
      return null; // unreadable: the scanner's own error stands
    }
    if (!binary(head)) {
      return null;
    }
    return kind(head);
  }

  /**
   * Binary: a known format's signature, or control bytes no text file holds (NUL and the like; tab,
   * line ends, form feed and escape are text). A Latin-1 file is text: its own error says so.
   */
  static boolean binary(byte[] head) {
    if (!"binary data".equals(kind(head))) {
      return true;
    }
    for (byte b : head) {
      int c = b & 0xFF;
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1B) {
        return true;
      }
    }
    return false;
  }

  private static String kind(byte[] h) {
    if (starts(h, 0x89, 'P', 'N', 'G')) {
      return "a PNG image";
    }
    if (starts(h, 0xFF, 0xD8, 0xFF)) {
      return "a JPEG image";
    }
    if (starts(h, '%', 'P', 'D', 'F')) {
      return "a PDF document";
    }
    if (starts(h, 'P', 'K', 3, 4)) {
      return "a ZIP archive (an .xlsx spreadsheet is one: save it as CSV first)";
    }
    if (starts(h, 0xD0, 0xCF, 0x11, 0xE0)) {
      return "an Office document (save it as CSV first)";
    }
    return "binary data";
  }

  private static boolean starts(byte[] h, int... magic) {
    if (h.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((h[i] & 0xFF) != magic[i]) {
        return false;
      }
    }
    return true;
  }
}
