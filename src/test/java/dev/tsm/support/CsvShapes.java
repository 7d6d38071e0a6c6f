package dev.tsm.support;

import dev.tsm.support.CsvShape.Bad;
import dev.tsm.support.CsvShape.Kind;
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
   * @param sampleBytes tsm.import.sample-bytes: the sample also ends after this many bytes
   * @param followFrom the declared length above which a body loads while it arrives
   * @param batchRows tsm.import.batch-rows
   * @param batchBytes tsm.import.batch-bytes
   * @param maxFieldBytes tsm.import.max-field-size
   * @param maxColumns tsm.import.max-columns
   * @param maxBodyBytes tsm.import.max-body-size
   * @param scanWindow the bytes the scanner reads at once
   * @param maxStoredRejects tsm.import.max-stored-rejects: bad rows listed (all are counted)
   */
  public record Limits(
      int sampleRows,
      long sampleBytes,
      long followFrom,
      int batchRows,
      int batchBytes,
      int maxFieldBytes,
      int maxColumns,
      long maxBodyBytes,
      int scanWindow,
      int maxStoredRejects) {}

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
          "max-body-over",
          "max-columns-at",
          "max-columns-over",
          "stored-rejects-below",
          "stored-rejects-at",
          "stored-rejects-above");

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
    return new CsvShapeWriter(plan, rnd, limits).write(id, family);
  }

  // ---- Plans: what a family asks for ---------------------------------------------------------

  static final class Plan {
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
            p.badLayout(
                rnd,
                lim,
                List.of(Bad.END_MARKER, Bad.RAGGED, Bad.INVALID_UTF8, Bad.NUL, Bad.BARE_CR));
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
        case "max-columns-at", "max-columns-over" -> {
          // Every column after the typed ones is text; rows are narrow.
          int columns = lim.maxColumns() + (family.endsWith("-over") ? 1 : 0);
          p.kinds = kinds(rnd, Math.min(6, columns - 1));
          p.fillers = columns - p.kinds.size();
          p.records = 1 + rnd.nextInt(2 * b);
          p.widths = uniform(rnd, p.records, 2 * columns, 6 * columns);
          if (family.endsWith("-at") && rnd.nextBoolean()) {
            p.badLayout(rnd, lim, List.of(Bad.RAGGED, Bad.INVALID_UTF8, Bad.MISFIT));
            p.skip = true;
          }
        }
        case "stored-rejects-below", "stored-rejects-at", "stored-rejects-above" -> {
          // Exactly as many bad rows as are listed, one fewer or one more; all are counted.
          int bad = lim.maxStoredRejects() + delta(family);
          p.records = bad + 100 + rnd.nextInt(400);
          p.widths = uniform(rnd, p.records, 20, 120);
          p.exactBad(rnd, bad, List.of(Bad.RAGGED, Bad.INVALID_UTF8, Bad.NUL, Bad.MISFIT));
          p.skip = true;
        }
        default -> throw new IllegalArgumentException(family);
      }
      if (random && p.bad == null && p.exactSize < 0 && rnd.nextInt(4) == 0) {
        List<Bad> kinds = new ArrayList<>(List.of(Bad.values()));
        kinds.remove(Bad.FIELD_TOO_LONG);
        p.badLayout(rnd, lim, kinds);
        p.skip = rnd.nextBoolean();
      }
      if (p.kinds.size() + p.fillers > lim.maxColumns() && !family.equals("max-columns-over")) {
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
      // One good record stays where all would be bad: column types come from good rows, and the
      // expectations of a file
      // whose every row is bad (text everywhere, nothing committed) are not the generator's.
      boolean every = true;
      for (int i = first; i < records; i++) {
        every &= bad[i];
      }
      if (every) {
        bad[first] = false;
      }
      badKinds = List.copyOf(allowed);
      layoutNames = String.join("+", used);
    }

    String layoutNames = "";

    /** Exactly {@code count} bad records, anywhere but first. */
    private void exactBad(Random rnd, int count, List<Bad> allowed) {
      bad = new boolean[records];
      List<Integer> places = new ArrayList<>();
      for (int i = 1; i < records; i++) {
        places.add(i);
      }
      Collections.shuffle(places, rnd);
      places.subList(0, count).forEach(i -> bad[i] = true);
      badKinds = List.copyOf(allowed);
      layoutNames = count + " spread";
      blankRate = 0;
    }

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
}
