package dev.tsm.support;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;

/**
 * What the flows of the clients generated from docs/openapi.yaml (Java, TypeScript) are given and
 * what they must leave behind: a file of a few thousand rows to import, one large enough to pause,
 * resume and terminate mid-way, one with a bad row for the rejects; then the imported table equal
 * to {@code psql \copy} of the same file, no trace of the terminated import, and the downloaded
 * export byte for byte {@code psql \copy ... TO} of the table.
 */
public final class ClientFlow {
  public static final int ROWS = 3_000;
  public static final int LARGE_ROWS = 40_000;

  /**
   * The flow's inputs; {@code table} is the import's target, {@code exported} where it saves the
   * download.
   */
  public record Inputs(String table, Path file, Path large, Path bad, Path exported) {}

  private ClientFlow() {}

  public static Inputs inputs(String table) {
    return new Inputs(
        table,
        CsvFiles.mixed(table + ".csv", ROWS, 19).toAbsolutePath(),
        CsvFiles.mixed(table + "-large.csv", LARGE_ROWS, 23).toAbsolutePath(),
        CsvFiles.write(table + "-bad.csv", "a,b\n1,2\n3\n4,5\n").toAbsolutePath(),
        CsvFiles.dir().resolve(table + "-export.csv").toAbsolutePath());
  }

  /** The table of the import that is terminated mid-way. */
  public static String largeTable(String table) {
    return table + "_large";
  }

  /** The table of the import that sets a bad row aside. */
  public static String badTable(String table) {
    return table + "_bad";
  }

  /** Checks what the flow left: the import, the terminated import, the downloaded export. */
  public static void assertOutcome(Inputs in) {
    String table = "public." + in.table();
    Db.copyReference("ref_" + in.table(), table, in.file(), ", HEADER true");
    Db.assertSameRows("ref_" + in.table(), table);
    assertFalse(
        Db.tableExists("public." + largeTable(in.table())), "a terminated import leaves no table");
    Exports.assertSameBytes(
        Exports.reference(in.table(), "SELECT * FROM " + table + " ORDER BY ctid", ", HEADER"),
        Exports.read(in.exported()),
        "the export downloaded through the client");
  }
}
