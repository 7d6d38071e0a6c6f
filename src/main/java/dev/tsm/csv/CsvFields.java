package dev.tsm.csv;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the fields of one record with PostgreSQL's CSV rules. Used for the header and the type
 * sample only; the bulk of the data is never decoded by the service.
 */
public final class CsvFields {
  private CsvFields() {}

  public static List<CsvField> split(byte[] bytes, int offset, int length, byte delimiter) {
    int end = offset + length;
    while (end > offset && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r')) {
      end--;
    }
    List<CsvField> fields = new ArrayList<>();
    ByteArrayOutputStream value = new ByteArrayOutputStream();
    boolean inQuote = false;
    boolean quoted = false;
    for (int i = offset; i < end; i++) {
      byte b = bytes[i];
      if (inQuote) {
        if (b == CsvDialect.QUOTE) {
          if (i + 1 < end && bytes[i + 1] == CsvDialect.QUOTE) {
            value.write(b);
            i++;
          } else {
            inQuote = false;
          }
        } else {
          value.write(b);
        }
      } else if (b == CsvDialect.QUOTE) {
        inQuote = true;
        quoted = true;
      } else if (b == delimiter) {
        fields.add(field(value, quoted));
        value.reset();
        quoted = false;
      } else {
        value.write(b);
      }
    }
    fields.add(field(value, quoted));
    return fields;
  }

  private static CsvField field(ByteArrayOutputStream value, boolean quoted) {
    if (value.size() == 0 && !quoted) {
      return new CsvField(null, false);
    }
    return new CsvField(value.toString(StandardCharsets.UTF_8), quoted);
  }
}
