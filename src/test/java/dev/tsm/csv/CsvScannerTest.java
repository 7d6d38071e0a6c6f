package dev.tsm.csv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.support.Waits;
import dev.tsm.upload.Upload;
import dev.tsm.upload.UploadBrokeOffException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Record boundaries, line numbers, restarts and checks of {@link CsvScanner} and CsvFields. */
class CsvScannerTest {
  private static final CsvDialect COMMA = new CsvDialect((byte) ',', true);
  private static final CsvLimits ROOMY = new CsvLimits(1 << 20, 8 << 20, 1600);
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  @TempDir Path dir;

  /** What one record scanned to, copied out of the reused buffers. */
  record Rec(long line, long endOffset, int fields, boolean blank, String error, byte[] bytes) {
    static Rec of(ScannedRecord rec, ByteBuf buf) {
      return new Rec(
          rec.line(),
          rec.endOffset(),
          rec.fields(),
          rec.blank(),
          rec.error(),
          Arrays.copyOfRange(buf.array(), rec.start(), rec.start() + rec.length()));
    }

    String text() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    List<CsvField> split(byte delimiter) {
      return CsvFields.split(bytes, 0, bytes.length, delimiter);
    }

    /** Same record, error text aside: restarts must give back exactly this. */
    boolean sameAs(Rec o) {
      return line == o.line
          && endOffset == o.endOffset
          && fields == o.fields
          && blank == o.blank
          && (error == null) == (o.error == null)
          && Arrays.equals(bytes, o.bytes);
    }

    @Override
    public String toString() {
      return "Rec[line="
          + line
          + ", end="
          + endOffset
          + ", fields="
          + fields
          + ", blank="
          + blank
          + ", error="
          + error
          + ", text="
          + text().replace("\n", "\\n").replace("\r", "\\r")
          + "]";
    }
  }

  private Path file(byte[] content) throws IOException {
    return Files.write(Files.createTempFile(dir, "scan", ".csv"), content);
  }

  private Path file(String content) throws IOException {
    return file(content.getBytes(StandardCharsets.UTF_8));
  }

  private static List<Rec> scan(
      Path file, long offset, long line, CsvDialect dialect, CsvLimits limits) throws IOException {
    List<Rec> recs = new ArrayList<>();
    try (CsvScanner scanner = new CsvScanner(file, offset, line, dialect, limits)) {
      ByteBuf buf = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      while (true) {
        long before = scanner.offset();
        long announced = scanner.line();
        buf.truncate(0);
        if (!scanner.next(buf, rec)) {
          assertEquals(before, scanner.offset(), "offset stays at the end of the file");
          break;
        }
        assertEquals(announced, rec.line(), "line() announces the next record");
        if (!recs.isEmpty() && recs.get(recs.size() - 1).bytes().length > 0) {
          Rec last = recs.get(recs.size() - 1);
          long newlines = last.text().chars().filter(c -> c == '\n').count();
          assertEquals(last.line() + newlines, rec.line(), "physical line of " + last);
        }
        assertEquals(0, rec.start());
        assertEquals(rec.endOffset(), scanner.offset(), "endOffset is where the next one starts");
        assertTrue(rec.endOffset() > before, "a record moves the offset on");
        recs.add(Rec.of(rec, buf));
      }
    }
    return recs;
  }

  private static List<Rec> scan(Path file) throws IOException {
    return scan(file, 0, 1, COMMA, ROOMY);
  }

  private static List<String> values(List<CsvField> fields) {
    return fields.stream().map(CsvField::value).toList();
  }

  private static byte[] bytes(Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else if (p instanceof byte[] b) {
        out.writeBytes(b);
      } else if (p instanceof int[] ints) {
        for (int i : ints) {
          out.write(i);
        }
      } else {
        throw new IllegalArgumentException(String.valueOf(p));
      }
    }
    return out.toByteArray();
  }

  @Test
  void quotedDelimitersAndEscapedQuotesStayInOneField() throws IOException {
    String csv = "a,b,c\n\"x,y\",\"say \"\"hi\"\", ok\",z\n\"\"\"\",\"\",\n1,\"a\"\"b,c\"\"\",3\n";
    List<Rec> recs = scan(file(csv));

    assertEquals(4, recs.size(), recs.toString());
    for (Rec r : recs) {
      assertEquals(3, r.fields(), r.toString());
      assertNull(r.error(), r.toString());
      assertFalse(r.blank());
    }
    assertEquals(List.of(1L, 2L, 3L, 4L), recs.stream().map(Rec::line).toList());
    assertEquals("\"x,y\",\"say \"\"hi\"\", ok\",z\n", recs.get(1).text());

    List<CsvField> second = recs.get(1).split((byte) ',');
    assertEquals(List.of("x,y", "say \"hi\", ok", "z"), values(second));
    assertEquals(List.of(true, true, false), second.stream().map(CsvField::quoted).toList());

    // """" is one quote; "" is the empty string; nothing at all is NULL.
    List<CsvField> third = recs.get(2).split((byte) ',');
    assertEquals(Arrays.asList("\"", "", null), values(third));
    assertTrue(third.get(1).quoted());
    assertFalse(third.get(1).isNull());
    assertTrue(third.get(2).isNull());

    assertEquals(Arrays.asList("1", "a\"b,c\"", "3"), values(recs.get(3).split((byte) ',')));
    assertEquals(csv.length(), recs.get(3).endOffset());
  }

  @Test
  void newlinesInsideQuotesCountAsPhysicalLines() throws IOException {
    String csv =
        "id,text\n"
            + "1,\"two\nlines\"\n"
            + "2,\"three\n\nlines, with a comma\"\n"
            + "3,\"quote \"\" then\nnewline\"\n"
            + "4,plain\n";
    List<Rec> recs = scan(file(csv));

    assertEquals(5, recs.size(), recs.toString());
    assertEquals(List.of(1L, 2L, 4L, 7L, 9L), recs.stream().map(Rec::line).toList());
    assertEquals("1,\"two\nlines\"\n", recs.get(1).text());
    assertEquals(
        List.of("2", "three\n\nlines, with a comma"), values(recs.get(2).split((byte) ',')));
    assertEquals(List.of("3", "quote \" then\nnewline"), values(recs.get(3).split((byte) ',')));
    recs.forEach(r -> assertEquals(2, r.fields(), r.toString()));
    recs.forEach(r -> assertNull(r.error(), r.toString()));
  }

  @Test
  void crlfLineEndsAreKeptWithTheRecordAndStrippedFromValues() throws IOException {
    String csv = "a,b\r\n1,\"x\r\ny\"\r\n2,\r\n3,\"\"\r\n4,last";
    List<Rec> recs = scan(file(csv));

    assertEquals(5, recs.size(), recs.toString());
    assertEquals(List.of(1L, 2L, 4L, 5L, 6L), recs.stream().map(Rec::line).toList());
    assertEquals("a,b\r\n", recs.get(0).text());
    assertEquals(List.of("a", "b"), values(recs.get(0).split((byte) ',')));
    assertEquals(List.of("1", "x\r\ny"), values(recs.get(1).split((byte) ',')));
    assertEquals(Arrays.asList("2", null), values(recs.get(2).split((byte) ',')));
    assertEquals(List.of("3", ""), values(recs.get(3).split((byte) ',')));
    // The last record has no line end at all.
    assertEquals("4,last", recs.get(4).text());
    assertEquals(List.of("4", "last"), values(recs.get(4).split((byte) ',')));
    assertEquals(csv.length(), recs.get(4).endOffset());
    recs.forEach(r -> assertNull(r.error(), r.toString()));
  }

  @Test
  void byteOrderMarkIsSkippedAtOffsetZeroOnly() throws IOException {
    Path withBom = file(bytes(BOM, "id,name\n1,Zoë\n"));
    try (CsvScanner scanner = new CsvScanner(withBom, 0, 1, COMMA, ROOMY)) {
      assertEquals(3, scanner.offset(), "the BOM is not part of the first record");
    }
    List<Rec> recs = scan(withBom);
    assertEquals(2, recs.size());
    assertEquals("id,name\n", recs.get(0).text());
    assertEquals("id", recs.get(0).split((byte) ',').get(0).value());
    assertEquals(3 + 8, recs.get(0).endOffset());
    assertEquals(1, recs.get(0).line());
    assertEquals(List.of("1", "Zoë"), values(recs.get(1).split((byte) ',')));

    // A BOM past offset 0 is a character like any other (U+FEFF), kept and valid UTF-8.
    Path inside = file(bytes("a,b\n", BOM, "x,y\n"));
    List<Rec> later = scan(inside);
    assertEquals(2, later.size());
    assertNull(later.get(1).error());
    assertArrayEquals(bytes(BOM, "x,y\n"), later.get(1).bytes());

    // No BOM: nothing skipped.
    try (CsvScanner scanner = new CsvScanner(file("id\n1\n"), 0, 1, COMMA, ROOMY)) {
      assertEquals(0, scanner.offset());
    }
    // A file of only a BOM holds no record.
    assertTrue(scan(file(BOM)).isEmpty());
  }

  @Test
  void restartingAtAnEndOffsetGivesTheSameRecords() throws IOException {
    byte[] content =
        bytes(
            BOM,
            "id,name,note\r\n",
            "1,\"Smith, Jr.\",\"say \"\"hi\"\"\"\r\n",
            "2,東京,\"two\r\nlines\"\r\n",
            "\r\n",
            "3,Zoë 😀,\"\"\r\n",
            "4,,\"three\nlines\nhere\"\r\n",
            "5,bad,",
            new int[] {0xC3, 0x28},
            "\r\n",
            "6,last,x");
    Path file = file(content);
    List<Rec> all = scan(file);
    assertEquals(8, all.size(), all.toString());
    assertEquals(List.of(1L, 2L, 3L, 5L, 6L, 7L, 10L, 11L), all.stream().map(Rec::line).toList());
    assertTrue(all.get(3).blank());
    assertNotNull(all.get(6).error());

    for (int k = 1; k < all.size(); k++) {
      Rec previous = all.get(k - 1);
      List<Rec> rest = scan(file, previous.endOffset(), all.get(k).line(), COMMA, ROOMY);
      assertEquals(all.size() - k, rest.size(), "records after restart at record " + k);
      for (int i = 0; i < rest.size(); i++) {
        assertTrue(
            all.get(k + i).sameAs(rest.get(i)),
            "restart at " + previous.endOffset() + ": " + all.get(k + i) + " vs " + rest.get(i));
      }
    }
    // Restarting at the very end: nothing more.
    assertTrue(scan(file, content.length, 12, COMMA, ROOMY).isEmpty());
  }

  @Test
  void recordsAndCharactersAcrossReadWindowsAreWholeAndRestartable() throws IOException {
    // Far more than one read window (256 KiB), with records, quoted newlines and multi-byte
    // characters falling on every possible window boundary.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("n,text,more\n".getBytes(StandardCharsets.UTF_8));
    int rows = 0;
    for (int i = 0; out.size() < 700_000; i++) {
      String text = "é東😀".repeat(i % 7) + "x".repeat(i % 5);
      String row = i + ",\"" + text + ",\n\"\"q\"\"\"," + "Zoë".repeat(i % 3) + "\n";
      out.writeBytes(row.getBytes(StandardCharsets.UTF_8));
      rows++;
    }
    byte[] content = out.toByteArray();
    Path file = file(content);
    List<Rec> all = scan(file);

    assertEquals(rows + 1, all.size());
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    for (int i = 0; i < all.size(); i++) {
      Rec r = all.get(i);
      assertNull(r.error(), r.toString());
      assertEquals(3, r.fields(), r.toString());
      joined.writeBytes(r.bytes());
      if (i > 0) {
        assertEquals(2L * i, r.line(), "each data record spans two lines");
        List<CsvField> f = r.split((byte) ',');
        assertEquals(String.valueOf(i - 1), f.get(0).value());
        assertTrue(f.get(1).value().endsWith(",\n\"q\""), f.get(1).value());
      }
    }
    assertArrayEquals(content, joined.toByteArray(), "the records are the file, byte for byte");

    for (int k : new int[] {1, rows / 3, rows / 2, rows - 1}) {
      List<Rec> rest = scan(file, all.get(k - 1).endOffset(), all.get(k).line(), COMMA, ROOMY);
      assertEquals(all.size() - k, rest.size());
      for (int i = 0; i < rest.size(); i++) {
        assertTrue(all.get(k + i).sameAs(rest.get(i)), "restart before record " + k);
      }
    }
  }

  @Test
  void invalidUtf8IsFlaggedAndValidMultiByteIsNot() throws IOException {
    int[][] invalid = {
      {0xC0, 0xAF}, // overlong '/'
      {0xC1, 0xBF}, // overlong
      {0xE0, 0x80, 0xAF}, // overlong 3-byte
      {0xF0, 0x80, 0x80, 0xAF}, // overlong 4-byte
      {0xED, 0xA0, 0x80}, // UTF-16 surrogate D800
      {0xED, 0xBF, 0xBF}, // UTF-16 surrogate DFFF
      {0xF4, 0x90, 0x80, 0x80}, // past U+10FFFF
      {0xF5, 0x80, 0x80, 0x80}, // never a UTF-8 lead byte
      {0xFF},
      {0x80}, // lone continuation byte
      {0xC3}, // truncated before the delimiter
      {0xE2, 0x82}, // truncated before the delimiter
      {0xF0, 0x9F, 0x98}, // truncated 4-byte
    };
    for (int[] seq : invalid) {
      for (String after : new String[] {",z\n", "\n"}) {
        Path file = file(bytes("a,b\n", "1,x", seq, "y" + after, "2,Zoë 東京 😀\n"));
        List<Rec> recs = scan(file);
        String what = Arrays.toString(seq) + " then " + after.replace("\n", "\\n");
        assertEquals(3, recs.size(), what + ": " + recs);
        assertNotNull(recs.get(1).error(), what + " is flagged");
        assertTrue(recs.get(1).error().contains("UTF-8"), recs.get(1).error());
        assertNull(recs.get(0).error(), what);
        assertNull(recs.get(2).error(), what + ": the next record is not tainted");
        assertEquals(3, recs.get(2).line());
      }
    }
    // Truncated right before the line end and at the end of the file.
    for (int[] seq : new int[][] {{0xC3}, {0xE2, 0x82}, {0xF0, 0x9F, 0x98}}) {
      List<Rec> atLineEnd = scan(file(bytes("1,x", seq, "\n2,y\n")));
      assertNotNull(atLineEnd.get(0).error(), Arrays.toString(seq) + " before \\n");
      assertNull(atLineEnd.get(1).error());
      List<Rec> atEof = scan(file(bytes("1,x", seq)));
      assertEquals(1, atEof.size());
      assertNotNull(atEof.get(0).error(), Arrays.toString(seq) + " at EOF");
      assertTrue(atEof.get(0).error().contains("UTF-8"), atEof.get(0).error());
    }
    // Boundary characters that are valid.
    int[][] valid = {
      {0xC2, 0x80}, // U+0080
      {0xDF, 0xBF}, // U+07FF
      {0xE0, 0xA0, 0x80}, // U+0800
      {0xED, 0x9F, 0xBF}, // U+D7FF
      {0xEE, 0x80, 0x80}, // U+E000
      {0xEF, 0xBF, 0xBF}, // U+FFFF
      {0xF0, 0x90, 0x80, 0x80}, // U+10000
      {0xF4, 0x8F, 0xBF, 0xBF}, // U+10FFFF
    };
    for (int[] seq : valid) {
      List<Rec> recs = scan(file(bytes("1,\"", seq, "\",", seq, "\n")));
      assertEquals(1, recs.size());
      assertNull(recs.get(0).error(), Arrays.toString(seq) + " is valid");
      assertEquals(3, recs.get(0).fields());
      String character = new String(bytes(seq), StandardCharsets.UTF_8);
      assertEquals(1, character.codePointCount(0, character.length()));
      assertEquals(List.of("1", character, character), values(recs.get(0).split((byte) ',')));
    }
  }

  @Test
  void nulBytesAreFlaggedQuotedOrNot() throws IOException {
    List<Rec> recs =
        scan(
            file(
                bytes(
                    "a,b\n",
                    "1,x",
                    new int[] {0},
                    "y\n",
                    "2,\"q",
                    new int[] {0},
                    "\"\n",
                    "3,ok\n")));
    assertEquals(4, recs.size());
    assertNull(recs.get(0).error());
    assertTrue(recs.get(1).error().contains("NUL"), recs.get(1).error());
    assertTrue(recs.get(2).error().contains("NUL"), recs.get(2).error());
    assertNull(recs.get(3).error());
    assertEquals(List.of("3", "ok"), values(recs.get(3).split((byte) ',')));
  }

  @Test
  void fieldsRecordsAndColumnsOverTheLimitsAreFlagged() throws IOException {
    CsvLimits small = new CsvLimits(10, 40, 4);
    String ten = "abcdefghij";
    String csv =
        "1,"
            + ten
            + ",x\n" // 10 bytes: fine
            + "2,"
            + ten
            + "k,x\n" // 11 bytes in the middle
            + "3,"
            + ten
            + "\n" // 10 bytes at the end of the line: fine
            + "4,"
            + ten
            + "k\n" // 11 bytes at the end of the line
            + "5,\""
            + "a,b,c,d,e,f,g,h"
            + "\"\n" // 17 bytes, however quoted
            + "6,"
            + "x".repeat(50)
            + "\n" // over the record limit too
            + "7,a,b,c\n" // 4 columns: fine
            + "8,a,b,c,d\n" // 5 columns
            + "9,ok\n";
    List<Rec> recs = scan(file(csv), 0, 1, COMMA, small);

    assertEquals(9, recs.size(), recs.toString());
    assertNull(recs.get(0).error(), recs.get(0).toString());
    assertTrue(recs.get(1).error().contains("field 2 is 11 bytes"), recs.get(1).error());
    assertNull(recs.get(2).error(), recs.get(2).toString());
    assertTrue(recs.get(3).error().contains("field 2 is 11 bytes"), recs.get(3).error());
    assertTrue(recs.get(4).error().contains("field 2"), recs.get(4).error());
    assertNotNull(recs.get(5).error());
    assertEquals(0, recs.get(5).bytes().length, "a record over the limit is not kept");
    assertNull(recs.get(6).error(), recs.get(6).toString());
    assertTrue(recs.get(7).error().contains("more than 4 fields"), recs.get(7).error());
    assertEquals(5, recs.get(7).fields());
    assertNull(recs.get(8).error());
    assertEquals("9,ok\n", recs.get(8).text(), "the scan goes on past bad records");
    assertEquals(
        List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), recs.stream().map(Rec::line).toList());

    // The line end is no part of the last field, CRLF or LF.
    List<Rec> crlf = scan(file("1," + ten + "\r\n2," + ten + "k\r\n"), 0, 1, COMMA, small);
    assertNull(crlf.get(0).error(), crlf.get(0).toString());
    assertTrue(crlf.get(1).error().contains("field 2 is 11 bytes"), crlf.get(1).error());
  }

  @Test
  void recordOverTheRecordLimitIsDroppedAcrossReadWindows() throws IOException {
    CsvLimits limits = new CsvLimits(1 << 20, 100_000, 10);
    String big = "x".repeat(600_000);
    Path file = file("a,b\n1," + big + "\n2,after\n");
    List<Rec> recs = scan(file, 0, 1, COMMA, limits);
    assertEquals(3, recs.size());
    assertTrue(recs.get(1).error().contains("longer than the limit"), recs.get(1).error());
    assertEquals(0, recs.get(1).bytes().length);
    assertEquals(4 + 2 + 600_000 + 1, recs.get(1).endOffset());
    assertEquals("2,after\n", recs.get(2).text());
    assertEquals(3, recs.get(2).line());
  }

  @Test
  void unterminatedQuoteAtEndOfFileIsFlagged() throws IOException {
    String csv = "a,b\n1,ok\n2,\"never\nclosed,\n3,x\n";
    List<Rec> recs = scan(file(csv));
    assertEquals(3, recs.size(), recs.toString());
    assertNull(recs.get(1).error());
    Rec open = recs.get(2);
    assertEquals(3, open.line());
    assertTrue(open.error().contains("never closed"), open.error());
    assertEquals("2,\"never\nclosed,\n3,x\n", open.text(), "it swallows the rest of the file");
    assertEquals(csv.length(), open.endOffset());

    // A closed quote followed by an opened one that runs to EOF without a line end.
    List<Rec> noLineEnd = scan(file("a\n\"x\"\"y"));
    assertEquals(2, noLineEnd.size());
    assertTrue(noLineEnd.get(1).error().contains("never closed"), noLineEnd.get(1).error());
  }

  @Test
  void blankLinesAreRecordsMarkedBlank() throws IOException {
    String csv = "a,b\n\n1,2\r\n\r\n \n3,\"\n\"\n\n";
    List<Rec> recs = scan(file(csv));
    assertEquals(7, recs.size(), recs.toString());
    assertEquals(
        List.of(false, true, false, true, false, false, true),
        recs.stream().map(Rec::blank).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 8L), recs.stream().map(Rec::line).toList());
    assertEquals(1, recs.get(1).fields());
    assertEquals(Arrays.asList((String) null), values(recs.get(1).split((byte) ',')));
    assertEquals(List.of(" "), values(recs.get(4).split((byte) ',')), "a space is no blank line");
    recs.forEach(r -> assertNull(r.error(), r.toString()));

    assertTrue(scan(file("")).isEmpty(), "an empty file has no record");
  }

  @Test
  void otherDelimitersSplitOnlyOnTheirOwnByte() throws IOException {
    CsvDialect semicolon = new CsvDialect((byte) ';', true);
    List<Rec> recs = scan(file("a;b\n1,5;\"x;y\"\n"), 0, 1, semicolon, ROOMY);
    assertEquals(2, recs.get(1).fields());
    assertEquals(List.of("1,5", "x;y"), values(recs.get(1).split((byte) ';')));

    CsvDialect tab = new CsvDialect((byte) '\t', true);
    List<Rec> tabbed = scan(file("a\tb\n1\t\"x\ty\"\t\n"), 0, 1, tab, ROOMY);
    assertEquals(3, tabbed.get(1).fields());
    assertEquals(Arrays.asList("1", "x\ty", null), values(tabbed.get(1).split((byte) '\t')));
  }

  @Test
  void aGrowingFileScansExactlyAsTheWholeOne() throws Exception {
    Random random = new Random(7);
    byte[] head = filler(random, (1 << 18) - 100); // the random part straddles a read window
    byte[] content = bytes("id,name\r\n", head, "\n", randomCsv(random, 400), "9,\"tail\"\n");
    Path file = file(content);
    List<Rec> whole = scan(file, 0, 1, COMMA, ROOMY);

    // The file is all there; the upload says how much of it counts, in small random steps.
    Upload upload = new Upload();
    Thread writer =
        new Thread(
            () -> {
              long done = 0;
              while (done < content.length) {
                done = Math.min(content.length, done + 1 + random.nextInt(3000));
                upload.advance(done);
                Thread.onSpinWait();
              }
              upload.finish();
            });
    List<Rec> grown = new ArrayList<>();
    writer.start();
    try (CsvScanner scanner = new CsvScanner(file, 0, 1, COMMA, ROOMY, upload)) {
      ByteBuf buf = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      while (true) {
        buf.truncate(0);
        if (!scanner.next(buf, rec)) {
          break;
        }
        assertTrue(rec.endOffset() <= upload.readable(), "reads only what is on disk");
        grown.add(Rec.of(rec, buf));
      }
      writer.join();
    }
    assertEquals(whole.size(), grown.size());
    for (int i = 0; i < whole.size(); i++) {
      assertTrue(whole.get(i).sameAs(grown.get(i)), "record " + i);
      assertEquals(whole.get(i).error(), grown.get(i).error());
    }
  }

  @Test
  void aGrowingFileIsReadyOnlyWhereDataIsAndEndsOnlyWhenComplete() throws Exception {
    byte[] content = bytes("a,b\n1,2\n3,4\n");
    Path file = file(content);
    Upload upload = new Upload();
    upload.advance(8); // "a,b\n1,2\n"
    try (CsvScanner scanner = new CsvScanner(file, 0, 1, COMMA, ROOMY, upload)) {
      ByteBuf buf = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      assertTrue(scanner.next(buf, rec));
      assertTrue(scanner.next(buf, rec));
      assertFalse(scanner.ready(), "nothing more on disk yet");
      scanner.awaitReady(20_000_000L);
      assertFalse(scanner.ready(), "a wait that times out leaves it not ready");
      upload.advance(10); // "3," : a record cut short
      assertTrue(scanner.ready());
      Thread writer =
          new Thread(
              () -> {
                // A slow writer: the scanner is to wait for the rest, whenever it comes.
                Waits.pause(50);
                upload.advance(content.length);
                upload.finish();
              });
      writer.start();
      assertTrue(scanner.next(buf, rec), "waits for the rest of the record");
      assertEquals(12, rec.endOffset());
      writer.join(); // the rest may be read before the upload is marked complete
      assertTrue(scanner.ready(), "complete: the end is no wait");
      assertFalse(scanner.next(buf, rec));
    }
  }

  @Test
  void aRecordCutShortPastTheDeadlineStallsAndScansWholeFromItsStartLater() throws Exception {
    byte[] content = bytes("a,b\n1,2\n\"x\ny\",4\n");
    Path file = file(content);
    Upload upload = new Upload();
    upload.advance(11); // "a,b\n1,2\n\"x\n": the third record is cut short
    try (CsvScanner scanner = new CsvScanner(file, 4, 2, COMMA, ROOMY, upload)) {
      ByteBuf buf = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      assertTrue(scanner.next(buf, rec));
      assertEquals(8, scanner.offset());
      scanner.stallAfter(System.nanoTime() + 30_000_000L);
      assertThrows(CsvScanner.StalledException.class, () -> scanner.next(buf, rec));
    }
    upload.advance(content.length);
    upload.finish();
    List<Rec> rest = new ArrayList<>();
    try (CsvScanner again = new CsvScanner(file, 8, 3, COMMA, ROOMY, upload)) {
      ByteBuf buf = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      while (again.next(buf, rec)) {
        rest.add(Rec.of(rec, buf));
        buf.truncate(0);
      }
    }
    assertEquals(1, rest.size());
    assertEquals("\"x\ny\",4\n", rest.get(0).text());
    assertEquals(3, rest.get(0).line());
  }

  @Test
  void aBrokenUploadOrACancelEndsTheWait() throws Exception {
    byte[] content = bytes("a,b\n1,2\n3,4\n");
    Path file = file(content);
    Upload broken = new Upload();
    broken.advance(10);
    try (CsvScanner scanner = new CsvScanner(file, 0, 1, COMMA, ROOMY, broken)) {
      ByteBuf buf = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      assertTrue(scanner.next(buf, rec));
      assertTrue(scanner.next(buf, rec));
      broken.fail("the upload broke off: Connection reset");
      UploadBrokeOffException e =
          assertThrows(UploadBrokeOffException.class, () -> scanner.next(buf, rec));
      assertEquals("the upload broke off: Connection reset (after 10 bytes)", e.getMessage());
    }
    Upload stalled = new Upload();
    stalled.advance(10);
    try (CsvScanner scanner = new CsvScanner(file, 8, 3, COMMA, ROOMY, stalled)) {
      new Thread(
              () -> {
                Waits.pause(50); // a cancel that comes while the scanner waits for bytes
                scanner.cancel();
              })
          .start();
      assertThrows(
          CancellationException.class, () -> scanner.next(new ByteBuf(16), new ScannedRecord()));
    }
  }

  @Test
  void randomInputsScanExactlyAsTheReferenceScanner() throws IOException {
    Random random = new Random(20240601L);
    for (int n = 0; n < 2500; n++) {
      byte[] content = randomCsv(random, 1 + random.nextInt(40));
      // From the start (a BOM skipped), or from anywhere: the scanner starts where it is told to.
      long offset = random.nextInt(3) == 0 ? 0 : random.nextInt(content.length + 1);
      compareWithReference(random, n, content, offset);
    }
    // Past one read window (256 KiB): the random part falls on and around window boundaries.
    for (int n = 0; n < 40; n++) {
      int window = 1 << 18;
      int at = window * (1 + random.nextInt(2)) - 48 + random.nextInt(96);
      byte[] tail = randomCsv(random, 1 + random.nextInt(30));
      byte[] head = random.nextBoolean() ? filler(random, at) : bigField(random, at);
      // Windows start at the offset: a small one keeps a window boundary within the tail.
      long offset = random.nextBoolean() ? 0 : random.nextInt(40);
      compareWithReference(random, 100_000 + n, bytes(head, tail), offset);
    }
  }

  private void compareWithReference(Random random, int n, byte[] content, long offset)
      throws IOException {
    CsvDialect dialect = new CsvDialect(",;\t|".getBytes(StandardCharsets.US_ASCII)[n % 4], true);
    CsvLimits limits =
        random.nextInt(3) == 0
            ? ROOMY
            : new CsvLimits(1 + random.nextInt(12), 1 + random.nextInt(40), 1 + random.nextInt(6));
    if (content.length > 1000 && random.nextBoolean()) {
      limits = new CsvLimits(1 << 20, 1000 + random.nextInt(1 << 19), 1600);
    }
    long line = 1 + random.nextInt(5);
    boolean keep = random.nextBoolean();
    String what =
        "case "
            + n
            + " from "
            + offset
            + " with "
            + dialect
            + ", "
            + limits
            + (content.length < 500 ? ": " + HexFormat.of().formatHex(content) : "");

    ReferenceScanner.Result reference =
        ReferenceScanner.scan(content, offset, line, dialect, limits);
    List<Rec> expected = reference.recs();
    Path file = file(content);
    try (CsvScanner scanner = new CsvScanner(file, offset, line, dialect, limits)) {
      ByteBuf out = new ByteBuf(16);
      ScannedRecord rec = new ScannedRecord();
      for (int i = 0; ; i++) {
        if (!keep) {
          out.truncate(0);
        }
        int before = out.length();
        if (!scanner.next(out, rec)) {
          assertEquals(expected.size(), i, what + ": records");
          assertEquals(reference.nextLine(), scanner.line(), what + ": line after the last record");
          assertEquals(content.length, scanner.offset(), what);
          break;
        }
        String where = what + ", record " + i;
        assertTrue(i < expected.size(), where + " is one too many");
        Rec want = expected.get(i);
        assertEquals(before, rec.start(), where);
        assertEquals(rec.start() + rec.length(), out.length(), where + ": nothing else is kept");
        // The buffer never held more than the record limit and a character (it grows by doubling).
        assertTrue(
            out.array().length <= Math.max(16, 2 * (before + limits.maxRecordBytes() + 3)),
            where + ": buffer of " + out.array().length);
        Rec got = Rec.of(rec, out);
        assertEquals(want.toString(), got.toString(), where);
        assertEquals(want.error(), got.error(), where);
        assertArrayEquals(want.bytes(), got.bytes(), where);
        assertEquals(rec.endOffset(), scanner.offset(), where);
        long nextLine = i + 1 < expected.size() ? expected.get(i + 1).line() : reference.nextLine();
        assertEquals(nextLine, scanner.line(), where + ": line of the next record");
      }
    }
    Files.delete(file);
  }

  /** A few dozen pieces of CSV, heavy on what the scanner must look at. */
  private static byte[] randomCsv(Random random, int pieces) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (random.nextInt(8) == 0) {
      out.writeBytes(BOM);
    }
    for (int i = 0; i < pieces; i++) {
      int k = random.nextInt(100);
      if (k < 30) {
        String plain = "ab ,;|\tx9.'\\";
        for (int j = random.nextInt(6); j >= 0; j--) {
          out.write(plain.charAt(random.nextInt(plain.length())));
        }
      } else if (k < 42) {
        out.write('"');
      } else if (k < 52) {
        out.write(",;\t|".charAt(random.nextInt(4)));
      } else if (k < 60) {
        out.write('\n');
      } else if (k < 65) {
        out.write('\r');
      } else if (k < 69) {
        out.writeBytes(new byte[] {'\r', '\n'});
      } else if (k < 71) {
        out.write(0);
      } else if (k < 82) {
        out.writeBytes(UTF8_CHARACTERS[random.nextInt(UTF8_CHARACTERS.length)]);
      } else if (k < 90) {
        out.writeBytes(BAD_UTF8[random.nextInt(BAD_UTF8.length)]);
      } else if (k < 94) {
        out.write(random.nextInt(256));
      } else {
        out.writeBytes("y".repeat(random.nextInt(60)).getBytes(StandardCharsets.US_ASCII));
      }
    }
    return out.toByteArray();
  }

  /** Short plain records up to {@code length} bytes, so what follows starts at that offset. */
  private static byte[] filler(Random random, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (i == length - 1 || random.nextInt(40) == 0 ? '\n' : 'a' + i % 26);
    }
    return b;
  }

  /** One record of {@code length} bytes with a long, sometimes quoted, field: it spans windows. */
  private static byte[] bigField(Random random, int length) {
    byte[] b = filler(random, length);
    Arrays.fill(b, 0, length - random.nextInt(8), (byte) 'z');
    if (random.nextBoolean()) {
      b[1] = '"';
    }
    return b;
  }

  private static final byte[][] UTF8_CHARACTERS = {
    bytes("é"),
    bytes("東"),
    bytes("😀"),
    bytes(BOM),
    bytes(new int[] {0xC2, 0x80}),
    bytes(new int[] {0xDF, 0xBF}),
    bytes(new int[] {0xE0, 0xA0, 0x80}),
    bytes(new int[] {0xED, 0x9F, 0xBF}),
    bytes(new int[] {0xEE, 0x80, 0x80}),
    bytes(new int[] {0xF0, 0x90, 0x80, 0x80}),
    bytes(new int[] {0xF4, 0x8F, 0xBF, 0xBF}),
  };

  private static final byte[][] BAD_UTF8 = {
    bytes(new int[] {0xC0, 0xAF}),
    bytes(new int[] {0xC1}),
    bytes(new int[] {0xE0, 0x80, 0xAF}),
    bytes(new int[] {0xF0, 0x80}),
    bytes(new int[] {0xED, 0xA0, 0x80}),
    bytes(new int[] {0xF4, 0x90}),
    bytes(new int[] {0xF5}),
    bytes(new int[] {0xFF}),
    bytes(new int[] {0x80}),
    bytes(new int[] {0xC3}),
    bytes(new int[] {0xE2, 0x82}),
    bytes(new int[] {0xF0, 0x9F, 0x98}),
    bytes(new int[] {0xE2}),
    bytes(new int[] {0xF0}),
  };

  /**
   * The scanner as it was written first, one byte at a time over the whole input: the plainest
   * statement of what it must find, which the fast one is checked against. It shares no code with
   * {@link CsvScanner} on purpose, error texts included, so a slip there cannot hide here too.
   */
  private static final class ReferenceScanner {
    record Result(List<Rec> recs, long nextLine) {}

    static Result scan(byte[] data, long offset, long line, CsvDialect dialect, CsvLimits limits) {
      List<Rec> recs = new ArrayList<>();
      int pos = (int) offset;
      if (offset == 0
          && data.length >= BOM.length
          && Arrays.equals(data, 0, BOM.length, BOM, 0, BOM.length)) {
        pos = BOM.length;
      }
      while (pos < data.length) {
        int start = pos;
        String error = null;
        boolean inQuote = false;
        boolean storing = true;
        boolean ended = false;
        int fields = 1;
        int embeddedLines = 0;
        long recordLength = 0;
        long fieldStart = 0;
        long carriageReturnAt = -1;
        boolean bareCarriageReturn = false;
        int need = 0;
        int lo = 0x80;
        int hi = 0xBF;
        while (!ended) {
          if (pos == data.length) {
            if (inQuote) {
              error = first(error, "a quoted field opened in this record is never closed");
            } else if (need > 0) {
              error = first(error, "invalid UTF-8: a multi-byte character is cut short");
            }
            break;
          }
          byte b = data[pos++];
          recordLength++;
          if (need > 0) {
            int u = b & 0xFF;
            if (u >= lo && u <= hi) {
              need--;
              lo = 0x80;
              hi = 0xBF;
              continue;
            }
            error = first(error, utf8Error(recordLength));
            need = 0;
          }
          if (b == CsvDialect.QUOTE) {
            inQuote = !inQuote;
          } else if (b < 0) {
            int u = b & 0xFF;
            if (u >= 0xC2 && u <= 0xDF) {
              need = 1;
            } else if (u >= 0xE0 && u <= 0xEF) {
              need = 2;
              lo = u == 0xE0 ? 0xA0 : 0x80;
              hi = u == 0xED ? 0x9F : 0xBF;
            } else if (u >= 0xF0 && u <= 0xF4) {
              need = 3;
              lo = u == 0xF0 ? 0x90 : 0x80;
              hi = u == 0xF4 ? 0x8F : 0xBF;
            } else {
              error = first(error, utf8Error(recordLength));
            }
          } else if (b == 0) {
            error = first(error, "a NUL byte (0x00) at byte " + recordLength + " of the record");
          } else if (inQuote) {
            if (b == '\n') {
              embeddedLines++;
            }
          } else if (b == dialect.delimiter()) {
            error = first(error, checkField(limits, fields, recordLength - 1 - fieldStart));
            fields++;
            fieldStart = recordLength;
          } else if (b == '\n') {
            ended = true;
          } else if (b == '\r') {
            carriageReturnAt = recordLength;
            // Only a CR right before the LF ends a line; PostgreSQL would end one at any other.
            bareCarriageReturn |= pos == data.length || data[pos] != '\n';
          }
          if (storing && recordLength > limits.maxRecordBytes()) {
            error =
                first(
                    error,
                    "the record is longer than the limit of "
                        + limits.maxRecordBytes()
                        + " bytes"
                        + (inQuote ? ": a quoted field opened in it is never closed" : ""));
            storing = false;
          }
        }
        long lineEnd = !ended ? 0 : carriageReturnAt == recordLength - 1 ? 2 : 1;
        if (bareCarriageReturn) {
          error =
              first(
                  error,
                  "a carriage return (CR) outside quotes that does not end the line: quote the"
                      + " field that holds it (lines end with LF or CRLF)");
        }
        error = first(error, checkField(limits, fields, recordLength - fieldStart - lineEnd));
        byte[] bytes = storing ? Arrays.copyOfRange(data, start, pos) : new byte[0];
        boolean blank = recordLength <= 2 && fields == 1;
        for (byte b : bytes) {
          blank &= b == '\n' || b == '\r';
        }
        recs.add(new Rec(line, pos, fields, blank, error, bytes));
        line += 1 + embeddedLines;
      }
      return new Result(recs, line);
    }

    private static String checkField(CsvLimits limits, int field, long length) {
      if (length > limits.maxFieldBytes()) {
        return "field "
            + field
            + " is "
            + length
            + " bytes long, over the limit of "
            + limits.maxFieldBytes();
      }
      if (field > limits.maxColumns()) {
        return "more than " + limits.maxColumns() + " fields";
      }
      return null;
    }

    private static String utf8Error(long at) {
      return "invalid UTF-8 byte sequence at byte " + at + " of the record";
    }

    private static String first(String existing, String candidate) {
      return existing != null ? existing : candidate;
    }
  }
}
