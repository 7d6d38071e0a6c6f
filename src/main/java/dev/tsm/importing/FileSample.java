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
 * @param header the header's fields as written (empty without one)
 * @param profiles per column, what the sample showed and why it got its type
 * @param rows the first good data rows (as many as asked), each value as loaded (null: NULL)
 * @param rowLines the line of each of {@code rows}
 * @param problems bad rows of the sample, the first {@link #SHOWN_PROBLEMS} of them
 * @param sampledRows data rows read (bad ones too)
 */
record FileSample(
    List<String> names,
    List<ColumnType> types,
    long dataOffset,
    long dataLine,
    List<String> header,
    List<ColumnProfile> profiles,
    List<List<String>> rows,
    List<Long> rowLines,
    List<ImportPreview.Problem> problems,
    long sampledRows) {

  /** How many of the sample's bad rows a preview shows. */
  static final int SHOWN_PROBLEMS = 100;

  /**
   * Reads the sample: up to {@code sampleRows} data rows or {@code sampleBytes} of them, whichever
   * comes first, keeping the first {@code keptRows} good ones. Of a file still arriving, waits
   * until they are on disk or the upload ended.
   */
  static FileSample read(
      Path file,
      Growth growth,
      CsvDialect dialect,
      CsvLimits limits,
      int sampleRows,
      long sampleBytes,
      int keptRows) {
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
        String binary = BinaryContent.of(file, rec.endOffset());
        if (binary != null) {
          throw Refusal.invalid(
              "this is not a CSV text file: its first bytes are "
                  + binary
                  + ", not text. Choose a CSV file (text, UTF-8)");
        }
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
      List<ColumnProfile> profiles = new ArrayList<>();
      for (int i = 0; i < width; i++) {
        profiles.add(new ColumnProfile());
      }
      Kept shown = new Kept(keptRows, new ArrayList<>(), new ArrayList<>());
      List<ImportPreview.Problem> problems = new ArrayList<>();
      int rows = dialect.header() ? 0 : 1;
      if (!dialect.header()) {
        infer(profiles, first, rec.line(), shown);
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
              profiles,
              CsvFields.split(buf.array(), rec.start(), rec.length(), dialect.delimiter()),
              rec.line(),
              shown);
        } else if (problems.size() < SHOWN_PROBLEMS) {
          problems.add(
              new ImportPreview.Problem(
                  rec.line(),
                  rec.error() != null
                      ? rec.error()
                      : "expected " + width + " fields, found " + rec.fields()));
        }
      }
      if (rows == 0) {
        throw Refusal.invalid("the file has a header but no data rows");
      }
      return new FileSample(
          names,
          profiles.stream().map(ColumnProfile::type).toList(),
          dataOffset,
          dataLine,
          dialect.header() ? first.stream().map(CsvField::value).toList() : List.of(),
          profiles,
          shown.rows(),
          shown.lines(),
          problems,
          rows);
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

  /** The first good rows, as many as {@code max}, with their lines. */
  private record Kept(int max, List<List<String>> rows, List<Long> lines) {}

  /** Adds a good row to the profiles, and to the rows kept while there are fewer than asked. */
  private static void infer(
      List<ColumnProfile> profiles, List<CsvField> fields, long line, Kept shown) {
    List<String> row = shown.rows().size() < shown.max() ? new ArrayList<>() : null;
    for (int i = 0; i < profiles.size(); i++) {
      CsvField f = fields.get(i);
      String value = f.isNull() ? null : f.value();
      profiles.get(i).add(value, line);
      if (row != null) {
        row.add(value);
      }
    }
    if (row != null) {
      shown.rows().add(java.util.Collections.unmodifiableList(row));
      shown.lines().add(line);
    }
  }
}
