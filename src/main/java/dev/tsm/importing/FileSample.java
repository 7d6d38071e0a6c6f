package dev.tsm.importing;

import dev.tsm.Refusal;
import dev.tsm.csv.ByteBuf;
import dev.tsm.csv.CsvDialect;
import dev.tsm.csv.CsvField;
import dev.tsm.csv.CsvFields;
import dev.tsm.csv.CsvLimits;
import dev.tsm.csv.CsvScanner;
import dev.tsm.csv.Growth;
import dev.tsm.csv.ScannedRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The start of a staged file: its header, where the data starts, and the types its first rows
 * suggest. Problems with the header are the client's and answered at once (400).
 *
 * @param names column names from the header (or column_1.. without one)
 * @param types inferred type per column
 * @param dataOffset byte offset of the first data record
 * @param dataLine line number of the first data record
 */
record FileSample(List<String> names, List<ColumnType> types, long dataOffset, long dataLine) {

  /**
   * Reads the sample: up to {@code sampleRows} data rows or {@code sampleBytes} of them, whichever
   * comes first. Of a file still arriving, waits until they are on disk or the upload ended.
   */
  static FileSample read(
      Path file,
      Growth growth,
      CsvDialect dialect,
      CsvLimits limits,
      int sampleRows,
      long sampleBytes) {
    try (CsvScanner scanner = new CsvScanner(file, 0, 1, dialect, limits, growth)) {
      ByteBuf buf = new ByteBuf(1 << 16);
      ScannedRecord rec = new ScannedRecord();
      long firstOffset;
      do {
        firstOffset = scanner.offset();
        buf.truncate(0);
        if (!scanner.next(buf, rec)) {
          throw Refusal.invalid("the file is empty: there is no header and no data");
        }
      } while (rec.blank());
      if (rec.error() != null) {
        String what = dialect.header() ? "the header" : "the first row";
        throw Refusal.invalid(what + " (line " + rec.line() + "): " + rec.error());
      }
      List<CsvField> first =
          CsvFields.split(buf.array(), rec.start(), rec.length(), dialect.delimiter());
      int width = first.size();
      List<String> names =
          dialect.header()
              ? ColumnNames.of(first.stream().map(CsvField::value).toList())
              : ColumnNames.numbered(width);
      long dataOffset = dialect.header() ? scanner.offset() : firstOffset;
      long dataLine = dialect.header() ? scanner.line() : rec.line();
      ColumnType[] types = new ColumnType[width];
      int rows = dialect.header() ? 0 : 1;
      if (!dialect.header()) {
        infer(types, first);
      }
      while (rows < sampleRows && scanner.offset() - dataOffset < sampleBytes) {
        buf.truncate(0);
        if (!scanner.next(buf, rec)) {
          break;
        }
        if (rec.blank()) {
          continue;
        }
        rows++;
        if (rec.error() == null && rec.fields() == width) {
          infer(
              types, CsvFields.split(buf.array(), rec.start(), rec.length(), dialect.delimiter()));
        }
      }
      if (rows == 0) {
        throw Refusal.invalid("the file has a header but no data rows");
      }
      List<ColumnType> result = new ArrayList<>();
      for (ColumnType t : types) {
        result.add(t == null ? ColumnType.TEXT : t);
      }
      return new FileSample(names, result, dataOffset, dataLine);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first {@code length} bytes of a file taken as the whole of it. */
  static Growth firstBytes(long length) {
    return new Growth() {
      @Override
      public long readable() {
        return length;
      }

      @Override
      public boolean complete() {
        return true;
      }

      @Override
      public void await(long beyond, long timeoutNanos) {}
    };
  }

  /**
   * Where the last whole line within the first {@code readable} bytes ends (after its newline), so
   * that a sample of a file still arriving never reads a cut record; 0 when there is none in the
   * last megabyte before {@code readable}.
   */
  static long lastLineEnd(Path file, long readable) {
    int window = (int) Math.min(readable, 1 << 20);
    java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate(window);
    try (var channel = java.nio.channels.FileChannel.open(file)) {
      while (tail.hasRemaining()) {
        if (channel.read(tail, readable - window + tail.position()) < 0) {
          break;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int i = tail.position() - 1; i >= 0; i--) {
      if (tail.get(i) == '\n') {
        return readable - window + i + 1;
      }
    }
    return 0;
  }

  private static void infer(ColumnType[] types, List<CsvField> fields) {
    for (int i = 0; i < types.length; i++) {
      CsvField f = fields.get(i);
      if (f.isNull()) {
        continue;
      }
      // A quoted empty string is text: no number, date or boolean reads it.
      ColumnType t = f.value().isEmpty() ? ColumnType.TEXT : ColumnType.of(f.value());
      types[i] = types[i] == null ? t : types[i].join(t);
    }
  }
}
