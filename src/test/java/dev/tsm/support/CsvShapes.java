package dev.tsm.support;

import dev.tsm.support.CsvShape.Bad;
import dev.tsm.support.CsvShape.Kind;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * A seeded generator of CSV files of many shapes, each aimed at a limit of the service (the type
 * sample, the size from which a body loads while it arrives, batch rows and bytes, the field size,
 * the body size) or at the hard parts of CSV (quoted newlines, CRLF, a BOM, multi-byte characters
 * across the scanner's read windows, bad records first, last, in runs and everywhere). A case is
 * named {@code family/seed}; {@code random/seed} draws the family too. The same name always gives
 * the same bytes, so a failure replays from its name.
 */
public final class CsvShapes {
  /**
   * The limits of the service under test that shapes are built around.
   *
   * @param sampleRows tsm.import.sample-rows
   * @param followFrom the declared length above which a body loads while it arrives
   * @param batchRows tsm.import.batch-rows
   * @param batchBytes tsm.import.batch-bytes
   * @param maxFieldBytes tsm.import.max-field-size
   * @param maxColumns tsm.import.max-columns
   * @param maxBodyBytes tsm.import.max-body-size
   * @param scanWindow the bytes the scanner reads at once
   */
  public record Limits(
      int sampleRows,
      long followFrom,
      int batchRows,
      int batchBytes,
      int maxFieldBytes,
      int maxColumns,
      long maxBodyBytes,
      int scanWindow) {}

  /** The families a case can name. */
  public static final List<String> FAMILIES =
      List.of(
          "sample-rows-below",
          "sample-rows-at",
          "sample-rows-above",
          "batch-rows-below",
          "batch-rows-at",
          "batch-rows-above",
          "batch-bytes-below",
          "batch-bytes-at",
          "batch-bytes-above",
          "follow-from-below",
          "follow-from-at",
          "follow-from-above",
          "follow-few-rows",
          "wide-few-rows",
          "field-limit",
          "widths",
          "one-column",
          "edges",
          "bad-skip",
          "bad-fail",
          "max-errors",
          "max-body-at",
          "max-body-over");

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

  private CsvShapes() {}

  /** A generator for a seed; neighbouring seeds (1, 2, 3...) give unrelated sequences. */
  public static Random random(long seed) {
    return new Random(new java.util.SplittableRandom(seed).nextLong());
  }

  /** The shape named {@code family/seed}. */
  public static CsvShape generate(String id, Limits limits) {
    int slash = id.lastIndexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("a case is family/seed, not " + id);
    }
    String family = id.substring(0, slash);
    // The family is mixed in: the same seed in two families gives two unrelated files.
    Random rnd = random(Long.parseLong(id.substring(slash + 1)) ^ ((long) family.hashCode() << 32));
    boolean random = family.equals("random");
    if (random) {
      family = FAMILIES.get(rnd.nextInt(FAMILIES.size()));
    } else if (!FAMILIES.contains(family)) {
      throw new IllegalArgumentException(
          "no family " + family + "; families: random, " + String.join(", ", FAMILIES));
    }
    Plan plan = Plan.of(family, rnd, limits, random);
    return new Builder(plan, rnd, limits).build(id, family);
  }

  // ---- Plans: what a family asks for ---------------------------------------------------------

  private static final class Plan {
    int records;
    int[] widths;
    List<Kind> kinds = new ArrayList<>();
    int fillers = 1;
    boolean header;
    char delimiter;
    boolean bom;
    boolean crlf;
    boolean finalLineEnd;
    double quoteRate;
    double multiByteRate;
    double newlineRate;
    double nullRate;
    double blankRate;
    boolean hugeNumbers;
    boolean edges;
    long exactSize = -1;
    boolean[] bad;
    List<Bad> badKinds = List.of();
    int tooLongBy = -1;
    // Field-limit family: record -> {raw bytes of the first text field, 1 if quoted}
    Map<Integer, int[]> firstField = Map.of();
    boolean skip;
    Integer maxErrorsDelta;

    static Plan of(String family, Random rnd, Limits lim, boolean random) {
      Plan p = new Plan();
      p.features(rnd);
      int s = lim.sampleRows();
      int b = lim.batchRows();
      switch (family) {
        case "sample-rows-below", "sample-rows-at", "sample-rows-above" -> {
          // Narrow: under the size that loads while it arrives, so only the row count matters.
          p.records = s + delta(family);
          p.widths = uniform(rnd, p.records, 8, (int) Math.min(400, lim.followFrom() / s / 2));
        }
        case "batch-rows-below", "batch-rows-at", "batch-rows-above" -> {
          p.records = b * (1 + rnd.nextInt(3)) + delta(family);
          p.widths = uniform(rnd, p.records, 4, 120);
        }
        case "batch-bytes-below", "batch-bytes-at", "batch-bytes-above" ->
            p.batchBytes(rnd, lim, family);
        case "follow-from-below", "follow-from-at", "follow-from-above" -> {
          p.kinds = kinds(rnd, 4);
          p.exact(rnd, lim.followFrom() + delta(family), 300, 900);
        }
        case "follow-few-rows" -> {
          int[] counts = {1, 2, 3, 4 + rnd.nextInt(Math.max(1, s - 5)), s - 1};
          p.records = Math.max(1, counts[rnd.nextInt(counts.length)]);
          p.kinds = kinds(rnd, 3);
          p.exactSize = lim.followFrom() + 1;
          int each = (int) ((p.exactSize - 400) / p.records);
          p.widths = constant(p.records, each);
          p.fillers = fillersFor(each, lim);
          p.blankRate = 0;
        }
        case "wide-few-rows" -> p.wideFewRows(rnd, lim);
        case "field-limit" -> p.fieldLimit(rnd, lim);
        case "widths" -> {
          p.records = 20 + rnd.nextInt(2500);
          long budget = p.records < s ? lim.followFrom() * 9 / 10 : lim.maxBodyBytes() * 8 / 10;
          p.widths = logUniform(rnd, p.records, 1, lim.maxFieldBytes(), budget);
          p.kinds = kinds(rnd, 3);
          p.hugeNumbers = true;
        }
        case "one-column" -> {
          p.records = 1 + rnd.nextInt(3 * b);
          p.kinds = List.of();
          p.widths = uniform(rnd, p.records, 1, 40);
          p.blankRate = rnd.nextDouble() * 0.1;
          if (rnd.nextBoolean()) {
            p.badLayout(rnd, lim, List.of(Bad.END_MARKER, Bad.RAGGED, Bad.INVALID_UTF8, Bad.NUL));
            p.skip = true;
          }
        }
        case "edges" -> {
          long size = lim.followFrom() + 1 + rnd.nextInt(spanAboveFollow(lim));
          p.records = s + 1 + rnd.nextInt(2000);
          int average = (int) (size / p.records);
          p.widths = uniform(rnd, p.records, average / 2, average * 3 / 2);
          p.edges = true;
          p.quoteRate = Math.max(p.quoteRate, 0.4);
          p.multiByteRate = Math.max(p.multiByteRate, 0.2);
          p.newlineRate = Math.max(p.newlineRate, 0.05);
        }
        case "bad-skip", "bad-fail", "max-errors" -> {
          p.records = 300 + rnd.nextInt(3700);
          p.widths = uniform(rnd, p.records, 20, 300);
          p.kinds = kinds(rnd, 6);
          p.badLayout(rnd, lim, List.of(Bad.values()));
          p.skip = !family.equals("bad-fail");
          if (family.equals("max-errors")) {
            p.maxErrorsDelta = rnd.nextInt(3) - 1;
          }
        }
        case "max-body-at", "max-body-over" -> {
          p.kinds = kinds(rnd, 4);
          p.exact(rnd, lim.maxBodyBytes() + (family.equals("max-body-at") ? 0 : 1), 500, 2000);
        }
        default -> throw new IllegalArgumentException(family);
      }
      if (random && p.bad == null && p.exactSize < 0 && rnd.nextInt(4) == 0) {
        List<Bad> kinds = new ArrayList<>(List.of(Bad.values()));
        kinds.remove(Bad.FIELD_TOO_LONG);
        p.badLayout(rnd, lim, kinds);
        p.skip = rnd.nextBoolean();
      }
      if (p.kinds.size() + p.fillers > lim.maxColumns()) {
        p.kinds = p.kinds.subList(0, Math.max(0, lim.maxColumns() - p.fillers));
      }
      return p;
    }

    /** Dialect and content features, drawn for every family. */
    private void features(Random rnd) {
      header = rnd.nextInt(8) != 0;
      delimiter = new char[] {',', ',', ',', ';', '\t', '|'}[rnd.nextInt(6)];
      bom = rnd.nextInt(5) == 0;
      crlf = rnd.nextInt(3) == 0;
      finalLineEnd = rnd.nextInt(10) != 0;
      quoteRate = rnd.nextDouble() * 0.5;
      multiByteRate = rnd.nextDouble() * 0.3;
      newlineRate = rnd.nextInt(3) == 0 ? rnd.nextDouble() * 0.1 : 0;
      nullRate = rnd.nextDouble() * 0.2;
      blankRate = rnd.nextInt(5) == 0 ? rnd.nextDouble() * 0.03 : 0;
      kinds = kinds(rnd, 6);
      skip = rnd.nextBoolean();
    }

    /** Rows of equal width, so that one row ends exactly at (or one byte off) the byte limit. */
    private void batchBytes(Random rnd, Limits lim, String family) {
      int m = 8 + rnd.nextInt(Math.max(1, Math.min(lim.batchRows() - 1, 64) - 8));
      int w = lim.batchBytes() / m;
      records = 2 * m + 1 + rnd.nextInt(m);
      widths = constant(records, w);
      widths[m - 1] = lim.batchBytes() - (m - 1) * w + delta(family);
      kinds = kinds(rnd, 3);
      blankRate = 0;
      finalLineEnd = true;
    }

    private void wideFewRows(Random rnd, Limits lim) {
      int s = lim.sampleRows();
      int[][] profiles = {{500, 2400}, {300, 10_000}, {3, 600_000}, {0, 0}};
      int[] pick = profiles[rnd.nextInt(profiles.length)];
      if (pick[0] == 0) {
        int n = 1 + rnd.nextInt(s - 1);
        long size = lim.followFrom() + 1 + rnd.nextInt(spanAboveFollow(lim));
        pick = new int[] {n, (int) (size / n)};
      }
      records = pick[0];
      widths = constant(records, pick[1]);
      fillers = fillersFor(pick[1], lim);
      kinds = kinds(rnd, 3);
      blankRate = 0;
    }

    /** Text fields of exactly the limit, one byte under and one over, quoted and not. */
    private void fieldLimit(Random rnd, Limits lim) {
      int max = lim.maxFieldBytes();
      records = 6 + rnd.nextInt(9);
      widths = uniform(rnd, records, 10, 200);
      int[][] choices = {{max, 0}, {max - 1, 0}, {max, 1}, {max - 1, 1}, {50, 0}};
      List<int[]> fields = new ArrayList<>();
      fields.add(new int[] {max, 0});
      fields.add(new int[] {max, 1});
      int over = 1 + rnd.nextInt(3);
      for (int i = 0; i < over; i++) {
        fields.add(new int[] {max + 1, 0});
      }
      while (fields.size() < records) {
        fields.add(choices[rnd.nextInt(choices.length)]);
      }
      Collections.shuffle(fields, rnd);
      // Without a header the first record decides the width: a good one goes first.
      int good = 0;
      while (fields.get(good)[0] > max) {
        good++;
      }
      Collections.swap(fields, 0, good);
      bad = new boolean[records];
      Map<Integer, int[]> first = new HashMap<>();
      for (int i = 0; i < records; i++) {
        first.put(i, fields.get(i));
        bad[i] = fields.get(i)[0] > max;
      }
      firstField = first;
      badKinds = List.of(Bad.FIELD_TOO_LONG);
      tooLongBy = 1;
      blankRate = 0;
      kinds = kinds(rnd, 2);
    }

    /** A body of exactly {@code size} bytes: rows of random width, the last one fills it up. */
    private void exact(Random rnd, long size, int minWidth, int maxWidth) {
      exactSize = size;
      List<Integer> list = new ArrayList<>();
      long total = 0;
      while (true) {
        int w = minWidth + rnd.nextInt(maxWidth - minWidth + 1);
        if (total + w > size - 3000) {
          break;
        }
        list.add(w);
        total += w;
      }
      list.add(0); // the last row: whatever is left
      records = list.size();
      widths = list.stream().mapToInt(Integer::intValue).toArray();
      blankRate = 0;
      finalLineEnd = true;
    }

    /** Bad records first, last, in runs, everywhere, or all of them; some of these at once. */
    private void badLayout(Random rnd, Limits lim, List<Bad> allowed) {
      bad = new boolean[records];
      int first = header ? 0 : 1; // without a header the first record decides the width
      int layouts = 1 + rnd.nextInt(3);
      TreeSet<String> used = new TreeSet<>();
      for (int n = 0; n < layouts; n++) {
        String[] layoutChoices = {"first", "last", "run", "run", "everywhere", "everywhere"};
        String layout =
            rnd.nextInt(12) == 0 ? "all" : layoutChoices[rnd.nextInt(layoutChoices.length)];
        used.add(layout);
        switch (layout) {
          case "first" -> mark(first);
          case "last" -> mark(records - 1);
          case "run" -> {
            int length = 2 + rnd.nextInt(Math.max(1, Math.min(records, lim.batchRows() + 50) - 1));
            int start = first + rnd.nextInt(Math.max(1, records - first));
            for (int i = start; i < Math.min(records, start + length); i++) {
              mark(i);
            }
          }
          case "everywhere" -> {
            double p = 0.01 + rnd.nextDouble() * 0.3;
            for (int i = first; i < records; i++) {
              if (rnd.nextDouble() < p) {
                mark(i);
              }
            }
          }
          default -> {
            for (int i = first; i < records; i++) {
              mark(i);
            }
          }
        }
      }
      badKinds = List.copyOf(allowed);
      layoutNames = String.join("+", used);
    }

    String layoutNames = "";

    private void mark(int i) {
      if (i >= 0 && i < records && (header || i > 0)) {
        bad[i] = true;
      }
    }

    private static int delta(String family) {
      return family.endsWith("-below") ? -1 : family.endsWith("-above") ? 1 : 0;
    }
  }

  /** How far above the size that loads while it arrives a body may go and still fit the limit. */
  private static int spanAboveFollow(Limits lim) {
    return (int) Math.max(1, lim.maxBodyBytes() * 9 / 10 - lim.followFrom());
  }

  private static int fillersFor(int width, Limits lim) {
    return (int) Math.min(lim.maxColumns() - 4, width / (lim.maxFieldBytes() - 64) + 1);
  }

  private static List<Kind> kinds(Random rnd, int most) {
    List<Kind> kinds = new ArrayList<>();
    int n = rnd.nextInt(most + 1);
    for (int i = 0; i < n; i++) {
      kinds.add(Kind.values()[rnd.nextInt(Kind.values().length)]);
    }
    return kinds;
  }

  private static int[] uniform(Random rnd, int n, int min, int max) {
    int[] w = new int[n];
    for (int i = 0; i < n; i++) {
      w[i] = min + rnd.nextInt(Math.max(1, max - min + 1));
    }
    return w;
  }

  private static int[] constant(int n, int width) {
    int[] w = new int[n];
    Arrays.fill(w, width);
    return w;
  }

  /** Widths spread evenly over orders of magnitude, scaled down to fit {@code budget} bytes. */
  private static int[] logUniform(Random rnd, int n, int min, int max, long budget) {
    double[] raw = new double[n];
    double total = 0;
    for (int i = 0; i < n; i++) {
      raw[i] = Math.exp(Math.log(min) + rnd.nextDouble() * (Math.log(max) - Math.log(min)));
      total += raw[i];
    }
    double scale = Math.min(1, budget / total);
    int[] w = new int[n];
    for (int i = 0; i < n; i++) {
      w[i] = Math.max(min, (int) (raw[i] * scale));
    }
    return w;
  }

  // ---- Building the bytes ---------------------------------------------------------------------

  /** The bytes of one record, and what the sample learns from it. */
  private record Built(byte[] bytes, boolean[] valued, String column) {}

  private static final class Builder {
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

    Builder(Plan p, Random rnd, Limits lim) {
      this.p = p;
      this.rnd = rnd;
      this.lim = lim;
      this.eol = p.crlf ? new byte[] {'\r', '\n'} : new byte[] {'\n'};
      this.delimiter = (byte) p.delimiter;
      this.sampled = new boolean[p.kinds.size()];
      this.nextEdge = lim.scanWindow();
    }

    CsvShape build(String id, String family) {
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
        if (types == null && nonBlank >= lim.sampleRows()) {
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
          if (nonBlank < lim.sampleRows() && (bad == null || bad == Bad.BARE_CR)) {
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
        throw new IllegalStateException(
            id + ": made " + body.length + " bytes, not " + p.exactSize);
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

    private Bad badAt(int i, boolean last) {
      if (p.bad == null || !p.bad[i] || (last && p.exactSize > 0)) {
        return null;
      }
      List<Bad> legal = new ArrayList<>();
      for (Bad b : p.badKinds) {
        boolean ok =
            switch (b) {
              case MISFIT ->
                  types != null
                      && nonBlank >= lim.sampleRows()
                      && Arrays.stream(types).anyMatch(t -> t != Kind.TEXT);
              case UNCLOSED_QUOTE -> last;
              case FIELD_TOO_LONG ->
                  tooLong < 4
                      && out.size() + 2L * lim.maxFieldBytes() < lim.maxBodyBytes() * 9 / 10;
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
        quoted[f] =
            raw[f] >= 2 && (rnd.nextDouble() < p.quoteRate || (edge != null && edge.quoted));
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
      if (edge != null
          && (insertField >= 0 || edge == Edge.LINE_END || edge == Edge.CLOSING_QUOTE)) {
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
        case 0 ->
            sign + digits(1 + rnd.nextInt(12), true) + "." + digits(1 + rnd.nextInt(12), false);
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
