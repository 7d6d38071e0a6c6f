package dev.tsm.support;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** CSV files for tests, written to target/test-data. */
public final class CsvFiles {
  private static final String[] NAMES = {
    "Ada",
    "Zoë",
    "東京",
    "Łódź",
    "\"Smith, Jr.\"",
    "\"say \"\"hi\"\"\"",
    "\"two\nlines\"",
    "\"\"",
    "",
    "plain text"
  };

  private CsvFiles() {}

  public static Path dir() {
    try {
      return Files.createDirectories(Path.of("target", "test-data"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Path write(String name, String content) {
    return write(name, content.getBytes(StandardCharsets.UTF_8));
  }

  public static Path write(String name, byte[] content) {
    try {
      return Files.write(dir().resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code rows} rows of every inferred type, with quoting, embedded delimiters, quotes and
   * newlines, multi-byte text, NULLs and empty strings, codes with leading zeros. Deterministic.
   */
  public static Path mixed(String name, int rows, long seed) {
    Random random = new Random(seed);
    Path file = dir().resolve(name);
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("id,code,amount,big,active,day,at,name\n");
      for (int i = 1; i <= rows; i++) {
        w.write(Integer.toString(i));
        w.write(',');
        w.write(String.format("%05d", random.nextInt(100000)));
        w.write(',');
        w.write(
            random.nextInt(20) == 0
                ? ""
                : String.format("%d.%02d", random.nextInt(100000) - 50000, random.nextInt(100)));
        w.write(',');
        w.write(Long.toString(5_000_000_000L + random.nextInt(1_000_000)));
        w.write(',');
        w.write(random.nextBoolean() ? "true" : "false");
        w.write(',');
        w.write(String.format("2024-%02d-%02d", 1 + random.nextInt(12), 1 + random.nextInt(28)));
        w.write(',');
        w.write(
            String.format(
                "2024-03-%02d %02d:%02d:%02d",
                1 + random.nextInt(28),
                random.nextInt(24),
                random.nextInt(60),
                random.nextInt(60)));
        w.write(',');
        w.write(NAMES[random.nextInt(NAMES.length)]);
        w.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }
}
