package dev.tsm.support;

import dev.tsm.support.CsvShape.Bad;
import dev.tsm.support.CsvShape.Kind;
import dev.tsm.support.CsvShapes.Limits;
import dev.tsm.support.CsvShapes.Plan;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Writes the bytes a {@link CsvShapes.Plan} asks for, record by record, and notes what each record
 * is (the line it starts on, whether and why it is bad) and what the type sample learns from it.
 */
final class CsvShapeWriter {
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
  private static final String[] MULTI_BYTE = {
    "é", "ß", "ø", "Ж", "東", "京", "€", "ツ", "😀", "🇫🇷", "👩\u200D👩\u200D👧", "e\u0301"
  };
  // Never t or f first: a value "t" or "true" would be a boolean.
  private static final String FIRST = "abcdeghijklmnopqrsuvwxyzABCDEGHIJKLMNOPQRSUVWXYZ";
  private static final String PLAIN =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789     -._\\";
  private static final String[][] MISFITS = {
    {"2147483648", "-2147483649", "1.5", "abc", "\"\"", "12abc"},
    {"9223372036854775808", "-9223372036854775809", "1.5", "x1", "\"\""},
    {"abc", "1e", "--1", "1.2.3", "\"\""},
    {"maybe", "2", "\"\""},
    {"2023-02-29", "2024-04-31", "2024-13-01", "abc", "\"\""},
    {"2024-02-30 10:00", "2024-01-01 25:00", "abc", "\"\""},
  };
  private static final byte[][] INVALID_UTF8 = {
    {(byte) 0x80},
    {(byte) 0xC3, 0x28},
    {(byte) 0xFF},
    {(byte) 0xC0, (byte) 0xAF},
    {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
    {(byte) 0xE6, (byte) 0x9D, 'x'},
    {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, 'x'},
  };

  /** The bytes of one record, and what the sample learns from it. */
  private record Built(byte[] bytes, boolean[] valued, String column) {}

  private final Plan p;
  private final Random rnd;
  private final Limits lim;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final byte[] eol;
  private final byte delimiter;
  private final List<String> names = new ArrayList<>();
  private final boolean[] sampled;
  private Kind[] types;
  private final List<CsvShape.Record> records = new ArrayList<>();
  private int nonBlank;
  private long line = 1;
  private long nextEdge;
  private int edgesPlaced;
  private int tooLong;

  CsvShapeWriter(Plan p, Random rnd, Limits lim) {
    this.p = p;
    this.rnd = rnd;
    this.lim = lim;
    this.eol = p.crlf ? new byte[] {'\r', '\n'} : new byte[] {'\n'};
    this.delimiter = (byte) p.delimiter;
    this.sampled = new boolean[p.kinds.size()];
    this.nextEdge = lim.scanWindow();
  }

  CsvShape write(String id, String family) {
    names.addAll(names());
    if (p.bom) {
      out.writeBytes(BOM);
    }
    if (p.header) {
      out.writeBytes(headerLine());
      line++;
    }
    int headerEnd = out.size();
    for (int i = 0; i < p.records; i++) {
      // The sample reads on while it has fewer rows and fewer bytes than its limits.
      if (types == null
          && (nonBlank >= lim.sampleRows() || out.size() - headerEnd >= lim.sampleBytes())) {
        freezeTypes();
      }
      boolean last = i == p.records - 1;
      Bad bad = badAt(i, last);
      boolean blank =
          bad == null
              && p.blankRate > 0
              && rnd.nextDouble() < p.blankRate
              && (p.header || i > 0)
              && !(last && (!p.finalLineEnd || p.exactSize > 0));
      int from = out.size();
      Built rec;
      if (blank) {
        rec = new Built(eol.clone(), new boolean[p.kinds.size()], null);
      } else {
        int width = last && p.exactSize > 0 ? (int) (p.exactSize - from) : p.widths[i];
        rec = record(i, width, bad, last);
      }
      out.writeBytes(rec.bytes());
      boolean onlyLineEnd = isLineEnd(rec.bytes());
      records.add(new CsvShape.Record(line, from, out.size(), bad, rec.column(), onlyLineEnd));
      for (byte x : rec.bytes()) {
        if (x == '\n') {
          line++;
        }
      }
      if (!onlyLineEnd) {
        // Only good records type a column: the service's sample skips every record the scanner
        // sets aside, a bare CR's included (PostgreSQL would split it in two).
        if (types == null && bad == null) {
          for (int c = 0; c < sampled.length; c++) {
            sampled[c] |= rec.valued()[c];
          }
        }
        nonBlank++;
      }
      while (nextEdge <= out.size()) {
        nextEdge += lim.scanWindow();
      }
    }
    if (types == null) {
      freezeTypes();
    }
    byte[] body = out.toByteArray();
    if (p.exactSize > 0 && body.length != p.exactSize) {
      throw new IllegalStateException(id + ": made " + body.length + " bytes, not " + p.exactSize);
    }
    if (!family.equals("max-body-over") && body.length > lim.maxBodyBytes()) {
      throw new IllegalStateException(id + ": " + body.length + " bytes is over the body limit");
    }
    Long maxErrors = null;
    if (p.maxErrorsDelta != null) {
      long bad = records.stream().filter(r -> r.bad() != null).count();
      maxErrors = Math.max(0, bad + p.maxErrorsDelta);
    }
    List<Kind> columnTypes = new ArrayList<>(Arrays.asList(types));
    for (int f = 0; f < p.fillers; f++) {
      columnTypes.add(Kind.TEXT);
    }
    return new CsvShape(
        id,
        family,
        body,
        p.bom,
        headerEnd,
        names,
        columnTypes,
        p.header,
        p.delimiter,
        p.skip,
        maxErrors,
        records,
        lim.maxBodyBytes(),
        lim.maxColumns(),
        lim.maxStoredRejects(),
        features());
  }

  private String features() {
    List<String> f = new ArrayList<>();
    f.add(p.crlf ? "CRLF" : "LF");
    if (p.bom) {
      f.add("BOM");
    }
    if (p.delimiter != ',') {
      f.add("delimiter " + (p.delimiter == '\t' ? "tab" : String.valueOf(p.delimiter)));
    }
    if (!p.finalLineEnd) {
      f.add("no final line end");
    }
    if (p.edges) {
      f.add(edgesPlaced + " features across read windows");
    }
    if (!p.layoutNames.isEmpty()) {
      f.add("bad rows " + p.layoutNames);
    }
    f.add(
        String.format(
            "quotes %.2f, multi-byte %.2f, newlines %.2f",
            p.quoteRate, p.multiByteRate, p.newlineRate));
    return String.join(", ", f);
  }

  /** The sample is complete: a column is typed if it saw a value, else text. */
  private void freezeTypes() {
    types = new Kind[p.kinds.size()];
    for (int c = 0; c < types.length; c++) {
      types[c] = sampled[c] ? p.kinds.get(c) : Kind.TEXT;
    }
  }

  private boolean everyRecordBad() {
    for (int i = p.header ? 0 : 1; i < p.bad.length; i++) {
      if (!p.bad[i]) {
        return false;
      }
    }
    return true;
  }

  private Bad badAt(int i, boolean last) {
    if (p.bad == null || !p.bad[i] || (last && p.exactSize > 0)) {
      return null;
    }
    List<Bad> legal = new ArrayList<>();
    for (Bad b : p.badKinds) {
      boolean ok =
          switch (b) {
            // A value misfits its column's type only where good rows gave the column a type:
            // with every record bad, every column is text and no value misfits.
            case MISFIT ->
                types != null
                    && Arrays.stream(types).anyMatch(t -> t != Kind.TEXT)
                    && !everyRecordBad();
            case UNCLOSED_QUOTE -> last;
            case FIELD_TOO_LONG ->
                tooLong < 4 && out.size() + 2L * lim.maxFieldBytes() < lim.maxBodyBytes() * 9 / 10;
            default -> true;
          };
      if (ok) {
        legal.add(b);
      }
    }
    if (legal.isEmpty()) {
      return Bad.RAGGED;
    }
    Bad b = legal.get(rnd.nextInt(legal.size()));
    if (b == Bad.FIELD_TOO_LONG) {
      tooLong++;
    }
    return b;
  }

  private List<String> names() {
    int n = p.kinds.size() + p.fillers;
    List<String> list = new ArrayList<>();
    if (!p.header) {
      for (int i = 1; i <= n; i++) {
        list.add("column_" + i);
      }
      return list;
    }
    String[] fancy = {
      "Amount (EUR)", "naïve ünïcode", "東京 列", "Größe", "with, comma", "say \"hi\"", "MixedCase"
    };
    for (int i = 0; i < n; i++) {
      String base = i < p.kinds.size() ? p.kinds.get(i).name().toLowerCase() : "note";
      if (rnd.nextInt(5) == 0) {
        base = fancy[rnd.nextInt(fancy.length)];
      }
      list.add(base + "_" + (i + 1));
    }
    return list;
  }

  private byte[] headerLine() {
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    for (int i = 0; i < names.size(); i++) {
      if (i > 0) {
        h.write(delimiter);
      }
      String name = names.get(i);
      boolean quote =
          name.indexOf(p.delimiter) >= 0 || name.indexOf('"') >= 0 || rnd.nextInt(6) == 0;
      h.writeBytes(utf8(quote ? '"' + name.replace("\"", "\"\"") + '"' : name));
    }
    h.writeBytes(eol);
    return h.toByteArray();
  }

  private Built record(int index, int width, Bad bad, boolean last) {
    byte[] end = last && !p.finalLineEnd ? new byte[0] : eol;
    if (bad == Bad.END_MARKER) {
      return new Built(concat(utf8("\\."), end), new boolean[p.kinds.size()], null);
    }
    int typedCount = p.kinds.size();
    List<byte[]> fields = new ArrayList<>();
    boolean[] valued = new boolean[typedCount];
    for (int c = 0; c < typedCount; c++) {
      byte[] v = rnd.nextDouble() < p.nullRate ? new byte[0] : typed(p.kinds.get(c));
      valued[c] = v.length > 0;
      fields.add(v);
    }
    String column = null;
    if (bad == Bad.MISFIT) {
      List<Integer> typedColumns = new ArrayList<>();
      for (int c = 0; c < typedCount; c++) {
        if (types[c] != Kind.TEXT) {
          typedColumns.add(c);
        }
      }
      int c = typedColumns.get(rnd.nextInt(typedColumns.size()));
      String[] choices = MISFITS[types[c].ordinal()];
      fields.set(c, utf8(choices[rnd.nextInt(choices.length)]));
      column = names.get(c);
    }
    int typedBytes = fields.stream().mapToInt(f -> f.length).sum();
    int fixed = typedBytes + typedCount + p.fillers - 1 + end.length;
    long start = out.size();
    Edge edge = null;
    if (p.edges
        && bad == null
        && !(last && p.exactSize > 0)
        && nextEdge > start
        && nextEdge < start + width) {
      edge = Edge.values()[rnd.nextInt(Edge.values().length)];
      if (edge == Edge.LINE_END || edge == Edge.CLOSING_QUOTE) {
        int adjusted =
            (int) (nextEdge - start) + (edge == Edge.LINE_END ? end.length - 1 : end.length);
        if (end.length == 0 || adjusted < fixed + 2 * p.fillers + 2) {
          edge = null;
        } else {
          width = adjusted;
        }
      }
    }
    int[] raw = split(Math.max(0, width - fixed), p.fillers);
    boolean[] quoted = new boolean[p.fillers];
    for (int f = 0; f < p.fillers; f++) {
      quoted[f] = raw[f] >= 2 && (rnd.nextDouble() < p.quoteRate || (edge != null && edge.quoted));
    }
    if (edge == Edge.CLOSING_QUOTE) {
      quoted[p.fillers - 1] = true;
    }
    int[] first = p.firstField.get(index);
    if (first != null) {
      raw[0] = first[0];
      quoted[0] = first[1] == 1;
    }
    if (bad == Bad.FIELD_TOO_LONG) {
      int by = p.tooLongBy > 0 ? p.tooLongBy : 1 + rnd.nextInt(1000);
      raw[0] = lim.maxFieldBytes() + by;
      quoted[0] = false;
    }
    if (!p.header && index == 0 && p.kinds.isEmpty() && raw[0] == 0) {
      raw[0] = 1; // a blank first line would be taken for no line at all
    }
    // Where an edge feature goes: inside the text field that spans the window edge.
    int insertField = -1;
    int insertAt = 0;
    byte[] feature = null;
    if (edge != null && edge != Edge.LINE_END && edge != Edge.CLOSING_QUOTE) {
      feature = utf8(edge.text);
      int before = 1 + rnd.nextInt(Math.max(1, feature.length - 1));
      long at = nextEdge - before - start; // feature start within the record
      int offset = typedBytes + typedCount;
      for (int f = 0; f < p.fillers; f++) {
        int lo = offset + (quoted[f] ? 1 : 0);
        int hi = offset + raw[f] - (quoted[f] ? 1 : 0);
        if (at >= lo && at + feature.length <= hi && (quoted[f] || !edge.quoted)) {
          insertField = f;
          insertAt = (int) (at - offset);
          break;
        }
        offset += raw[f] + 1;
      }
    }
    if (edge != null && (insertField >= 0 || edge == Edge.LINE_END || edge == Edge.CLOSING_QUOTE)) {
      edgesPlaced++;
    }
    for (int f = 0; f < p.fillers; f++) {
      fields.add(
          f == insertField
              ? text(raw[f], quoted[f], feature, insertAt)
              : text(raw[f], quoted[f], null, 0));
    }
    int filler = typedCount;
    switch (bad == null ? Bad.END_MARKER : bad) {
      case INVALID_UTF8 ->
          fields.set(
              filler, splice(fields.get(filler), INVALID_UTF8[rnd.nextInt(INVALID_UTF8.length)]));
      case NUL -> fields.set(filler, splice(fields.get(filler), new byte[] {'n', 0, 'l'}));
      case BARE_CR -> fields.set(filler, splice(unquote(fields.get(filler)), utf8("x\ry")));
      case UNCLOSED_QUOTE -> {
        int lastField = fields.size() - 1;
        fields.set(lastField, utf8("\"never closed " + rnd.nextInt(1000)));
      }
      case RAGGED -> {
        if (fields.size() > 1 && rnd.nextBoolean() && fields.get(0).length > 0) {
          fields.remove(fields.size() - 1);
        } else {
          fields.add(utf8("extra"));
        }
      }
      default -> {}
    }
    ByteArrayOutputStream r = new ByteArrayOutputStream(width + 16);
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        r.write(delimiter);
      }
      r.writeBytes(fields.get(i));
    }
    r.writeBytes(end);
    return new Built(r.toByteArray(), valued, column);
  }

  /** {@code total} bytes over {@code n} fields of at most the field limit each. */
  private int[] split(int total, int n) {
    int[] raw = new int[n];
    int left = total;
    for (int f = 0; f < n; f++) {
      raw[f] = Math.min(lim.maxFieldBytes(), left / (n - f));
      left -= raw[f];
    }
    raw[n - 1] = Math.min(lim.maxFieldBytes(), raw[n - 1] + left);
    return raw;
  }

  /** A text value of exactly {@code raw} bytes as written (quotes and doubled quotes counted). */
  private byte[] text(int raw, boolean quoted, byte[] insert, int insertAt) {
    if (raw == 0) {
      return new byte[0];
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream(raw);
    if (quoted) {
      b.write('"');
    }
    int inner = raw - (quoted ? 2 : 0);
    if (insert == null) {
      pieces(b, inner, quoted, true);
    } else {
      int before = insertAt - (quoted ? 1 : 0);
      pieces(b, before, quoted, true);
      b.writeBytes(insert);
      // After a line end the next line starts with a letter, as above.
      pieces(b, inner - before - insert.length, quoted, insert[insert.length - 1] == '\n');
    }
    if (quoted) {
      b.write('"');
    }
    return b.toByteArray();
  }

  /**
   * Exactly {@code n} bytes of content: letters, digits, multi-byte characters, and inside quotes
   * also delimiters, doubled quotes and line ends.
   */
  private void pieces(ByteArrayOutputStream b, int n, boolean quoted, boolean first) {
    int left = n;
    if (first && left > 0) {
      b.write(FIRST.charAt(rnd.nextInt(FIRST.length())));
      left--;
    }
    boolean lineStart = false;
    while (left > 0) {
      double x = rnd.nextDouble();
      String piece = null;
      if (x < p.multiByteRate) {
        piece = MULTI_BYTE[rnd.nextInt(MULTI_BYTE.length)];
      } else if (quoted && x < p.multiByteRate + p.newlineRate) {
        piece = new String[] {"\n", "\r\n", "\r"}[rnd.nextInt(3)];
      } else if (quoted && x < p.multiByteRate + p.newlineRate + 0.05) {
        piece = new String[] {"\"\"", String.valueOf(p.delimiter), ",", "\t"}[rnd.nextInt(4)];
      }
      byte[] bytes = piece == null ? null : utf8(piece);
      if (bytes == null || bytes.length > left) {
        // No backslash first on a line: "\." alone on a line inside quotes is data to
        // PostgreSQL but the end of the data to psql's \copy, which could not be the reference.
        int range = bytes == null && !lineStart ? PLAIN.length() : 26;
        b.write(PLAIN.charAt(rnd.nextInt(range)));
        left--;
        lineStart = false;
      } else {
        b.writeBytes(bytes);
        left -= bytes.length;
        lineStart = bytes[bytes.length - 1] == '\n';
      }
    }
  }

  /** A typed value as written: sometimes quoted, which changes nothing. */
  private byte[] typed(Kind kind) {
    String v = value(kind);
    if (v.equals("\"\"")) {
      return utf8(v);
    }
    return utf8(rnd.nextDouble() < p.quoteRate ? '"' + v + '"' : v);
  }

  private String value(Kind kind) {
    return switch (kind) {
      case INTEGER ->
          switch (rnd.nextInt(10)) {
            case 0, 1, 2, 3, 4 -> String.valueOf(rnd.nextInt(11_000) - 1000);
            case 5, 6, 7 -> String.valueOf(rnd.nextInt());
            case 8 -> String.valueOf(rnd.nextBoolean() ? Integer.MIN_VALUE : Integer.MAX_VALUE);
            default -> rnd.nextBoolean() ? "-0" : "0";
          };
      case BIGINT -> {
        if (rnd.nextInt(20) == 0) {
          yield String.valueOf(rnd.nextBoolean() ? Long.MIN_VALUE : Long.MAX_VALUE);
        }
        long v = rnd.nextLong() >> rnd.nextInt(30);
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
          v = v >= 0 ? v + (1L << 32) : v - (1L << 32);
        }
        yield String.valueOf(v);
      }
      case NUMERIC -> numeric();
      case BOOLEAN ->
          new String[] {"true", "false", "t", "f", "TRUE", "False", "T", "F"}[rnd.nextInt(8)];
      case DATE -> date();
      case TIMESTAMP -> {
        String t =
            date()
                + (rnd.nextBoolean() ? " " : "T")
                + String.format("%02d:%02d", rnd.nextInt(24), rnd.nextInt(60));
        if (rnd.nextBoolean()) {
          t += String.format(":%02d", rnd.nextInt(60));
          if (rnd.nextBoolean()) {
            t += "." + digits(1 + rnd.nextInt(6), false);
          }
        }
        yield t;
      }
      case TEXT ->
          switch (rnd.nextInt(4)) {
            case 0 -> "0" + digits(1 + rnd.nextInt(6), false); // a code, not a number
            case 1 -> "\"\"";
            default ->
                FIRST.charAt(rnd.nextInt(FIRST.length()))
                    + digits(1 + rnd.nextInt(5), false)
                    + MULTI_BYTE[rnd.nextInt(MULTI_BYTE.length)];
          };
    };
  }

  private String numeric() {
    String sign = rnd.nextInt(4) == 0 ? "-" : "";
    return switch (rnd.nextInt(p.hugeNumbers && rnd.nextInt(50) == 0 ? 4 : 3)) {
      case 0 -> sign + digits(1 + rnd.nextInt(12), true) + "." + digits(1 + rnd.nextInt(12), false);
      case 1 ->
          sign
              + (1 + rnd.nextInt(9))
              + (rnd.nextBoolean() ? "." + digits(1 + rnd.nextInt(4), false) : "")
              + (rnd.nextBoolean() ? "e" : "E")
              + new String[] {"", "+", "-"}[rnd.nextInt(3)]
              + (1 + rnd.nextInt(300));
      case 2 -> sign + digits(20 + rnd.nextInt(21), true);
      // Thousands of digits: type inference must stay linear in the field's length.
      default -> sign + digits(1000 + rnd.nextInt(Math.max(1, lim.maxFieldBytes() - 1010)), true);
    };
  }

  private String date() {
    int year = rnd.nextInt(20) == 0 ? 1 + rnd.nextInt(9999) : 1900 + rnd.nextInt(200);
    int month = 1 + rnd.nextInt(12);
    int days = java.time.YearMonth.of(year, month).lengthOfMonth();
    return String.format("%04d-%02d-%02d", year, month, 1 + rnd.nextInt(days));
  }

  private String digits(int n, boolean noLeadingZero) {
    StringBuilder s = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      s.append((char) ('0' + (i == 0 && noLeadingZero ? 1 + rnd.nextInt(9) : rnd.nextInt(10))));
    }
    return s.toString();
  }

  /** {@code bytes} put into a field's content, between two characters. */
  private byte[] splice(byte[] field, byte[] bytes) {
    boolean quoted = field.length >= 2 && field[0] == '"';
    int lo = quoted ? 1 : 0;
    int hi = field.length - (quoted ? 1 : 0);
    List<Integer> cuts = new ArrayList<>();
    for (int i = lo; i <= hi; i++) {
      if ((i == lo || field[i - 1] >= 0) && (i == hi || field[i] >= 0)) {
        cuts.add(i);
      }
    }
    int at = cuts.isEmpty() ? lo : cuts.get(rnd.nextInt(cuts.size()));
    return concat(
        Arrays.copyOfRange(field, 0, at), bytes, Arrays.copyOfRange(field, at, field.length));
  }

  /** The same length of plain text, unquoted: a carriage return must be outside quotes. */
  private byte[] unquote(byte[] field) {
    byte[] plain = new byte[Math.max(1, field.length)];
    for (int i = 0; i < plain.length; i++) {
      plain[i] = (byte) FIRST.charAt(rnd.nextInt(FIRST.length()));
    }
    return plain;
  }

  private boolean isLineEnd(byte[] bytes) {
    return Arrays.equals(bytes, eol);
  }

  /** What is put across a read window's edge. */
  private enum Edge {
    TWO_BYTES("é", false),
    THREE_BYTES("東", false),
    FOUR_BYTES("😀", false),
    DOUBLED_QUOTE("\"\"", true),
    QUOTED_LF("\n", true),
    QUOTED_CRLF("\r\n", true),
    LINE_END("", false),
    CLOSING_QUOTE("", true);

    final String text;
    final boolean quoted;

    Edge(String text, boolean quoted) {
      this.text = text;
      this.quoted = quoted;
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
