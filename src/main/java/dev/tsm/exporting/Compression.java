package dev.tsm.exporting;

import dev.tsm.Refusal;
import dev.tsm.task.Task;
import java.util.Arrays;

/**
 * How an export's file is stored and sent: plain CSV, or gzip, each page one complete gzip member
 * (RFC 1952 reads members one after the other as one stream), so that every checkpoint falls on a
 * member boundary and a resume cuts the file back to a valid gzip file.
 */
public enum Compression {
  NONE("none", ".csv", "text/csv; charset=UTF-8"),
  GZIP("gzip", ".csv.gz", "application/gzip");

  private final String value;
  private final String suffix;
  private final String mediaType;

  Compression(String value, String suffix, String mediaType) {
    this.value = value;
    this.suffix = suffix;
    this.mediaType = mediaType;
  }

  /** The name in requests and in the task's options. */
  public String value() {
    return value;
  }

  /** The name a client saves the file of table {@code table} under. */
  public String fileName(String table) {
    return table + suffix;
  }

  /** The file's own type: gzip is what is sent, not a coding of the transfer. */
  public String mediaType() {
    return mediaType;
  }

  /** The compression a client names: none when it names none, refused if unknown. */
  public static Compression parse(String value) {
    if (value == null) {
      return NONE;
    }
    for (Compression c : values()) {
      if (c.value.equals(value)) {
        return c;
      }
    }
    throw Refusal.invalid(
        "'compression' must be one of "
            + Arrays.stream(values()).map(Compression::value).toList()
            + " ('none' when left out), not '"
            + value
            + "'");
  }

  /** An export's compression, as its options hold it (none for exports made before the option). */
  public static Compression of(Task task) {
    return parse(task.options().getString("compression"));
  }
}
