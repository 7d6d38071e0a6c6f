package dev.tsm.support;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A generated CSV file and what a correct import of it gives: which records are good and which are
 * bad (and why), the physical line each starts on, the column names and types its sample implies,
 * and the outcome its options call for. Made by {@link CsvShapes}.
 */
public final class CsvShape {
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  /** The column types an import infers, as PostgreSQL names them. */
  public enum Kind {
    INTEGER("integer"),
    BIGINT("bigint"),
    NUMERIC("numeric"),
    BOOLEAN("boolean"),
    DATE("date"),
    TIMESTAMP("timestamp without time zone"),
    TEXT("text");

    public final String sql;

    Kind(String sql) {
      this.sql = sql;
    }
  }

  /** Why a record is bad. */
  public enum Bad {
    /** Fewer or more fields than the header. */
    RAGGED,
    /** A byte sequence that is not UTF-8. */
    INVALID_UTF8,
    /** A NUL byte. */
    NUL,
    /** A field longer than tsm.import.max-field-size. */
    FIELD_TOO_LONG,
    /** A value that does not fit the type the sample gave its column. */
    MISFIT,
    /** A carriage return outside quotes that ends no line (PostgreSQL refuses it). */
    BARE_CR,
    /** A line holding only {@code \.}. */
    END_MARKER,
    /** A quote opened in the last record and never closed. */
    UNCLOSED_QUOTE
  }

  /**
   * One record after the header.
   *
   * @param line the line it starts on (1-based, as an editor counts them)
   * @param from offset of its first byte in the file
   * @param to offset just past it (its line end included)
   * @param bad why it is bad, or null
   * @param column the column a {@link Bad#MISFIT} value is in
   * @param blank it holds nothing but a line end
   */
  public record Record(long line, int from, int to, Bad bad, String column, boolean blank) {}

  /**
   * What the import must end in.
   *
   * @param state COMPLETED or FAILED; null when the request is refused at once
   * @param failLine the line a FAILED task's error names
   * @param goodBefore good rows before that line: committed rows are at most these
   * @param status the status of a refusal (413: too large; 400: more columns than allowed)
   * @param detail what a refusal's detail says
   */
  public record Outcome(String state, long failLine, int goodBefore, int status, String detail) {
    public boolean refused() {
      return state == null;
    }
  }

  private final String id;
  private final String family;
  private final byte[] body;
  private final boolean bom;
  private final int headerEnd;
  private final List<String> names;
  private final List<Kind> types;
  private final boolean header;
  private final char delimiter;
  private final boolean skip;
  private final Long maxErrors;
  private final List<Record> records;
  private final long maxBody;
  private final int maxColumns;
  private final int maxStoredRejects;
  private final String features;

  CsvShape(
      String id,
      String family,
      byte[] body,
      boolean bom,
      int headerEnd,
      List<String> names,
      List<Kind> types,
      boolean header,
      char delimiter,
      boolean skip,
      Long maxErrors,
      List<Record> records,
      long maxBody,
      int maxColumns,
      int maxStoredRejects,
      String features) {
    this.id = id;
    this.family = family;
    this.body = body;
    this.bom = bom;
    this.headerEnd = headerEnd;
    this.names = List.copyOf(names);
    this.types = List.copyOf(types);
    this.header = header;
    this.delimiter = delimiter;
    this.skip = skip;
    this.maxErrors = maxErrors;
    this.records = List.copyOf(records);
    this.maxBody = maxBody;
    this.maxColumns = maxColumns;
    this.maxStoredRejects = maxStoredRejects;
    this.features = features;
  }

  /** {@code family/seed}: generating it again gives the same bytes. */
  public String id() {
    return id;
  }

  public String family() {
    return family;
  }

  public byte[] body() {
    return body;
  }

  public int size() {
    return body.length;
  }

  public List<String> names() {
    return names;
  }

  public List<Kind> types() {
    return types;
  }

  public boolean header() {
    return header;
  }

  public char delimiter() {
    return delimiter;
  }

  public boolean skip() {
    return skip;
  }

  public Long maxErrors() {
    return maxErrors;
  }

  public List<Record> records() {
    return records;
  }

  /** Whether a record goes into the table: not bad, and not a blank line among several columns. */
  public boolean isGood(Record r) {
    return r.bad() == null && !(r.blank() && names.size() > 1);
  }

  public List<Record> good() {
    return records.stream().filter(this::isGood).toList();
  }

  public List<Record> bad() {
    return records.stream().filter(r -> r.bad() != null).toList();
  }

  /** The bad records the rejects list names: the first ones, up to the stored limit. */
  public List<Record> listedRejects() {
    List<Record> bad = bad();
    return bad.subList(0, Math.min(bad.size(), maxStoredRejects));
  }

  /** The query string of {@code POST /imports} into {@code table}. */
  public String query(String table) {
    StringBuilder q = new StringBuilder("table=").append(table);
    if (!header) {
      q.append("&header=false");
    }
    if (delimiter != ',') {
      String d = delimiter == '\t' ? "\\t" : String.valueOf(delimiter);
      q.append("&delimiter=").append(URLEncoder.encode(d, StandardCharsets.UTF_8));
    }
    q.append("&onError=").append(skip ? "skip" : "fail");
    if (maxErrors != null) {
      q.append("&maxErrors=").append(maxErrors);
    }
    return q.toString();
  }

  /** What a correct import ends in. */
  public Outcome outcome() {
    if (body.length > maxBody) {
      return new Outcome(null, 0, 0, 413, "larger than the limit");
    }
    if (names.size() > maxColumns) {
      return new Outcome(null, 0, 0, 400, "more than " + maxColumns + " fields");
    }
    List<Record> bad = bad();
    long allowed = skip ? (maxErrors == null ? Long.MAX_VALUE : maxErrors) : 0;
    if (bad.size() <= allowed) {
      return new Outcome("COMPLETED", 0, good().size(), 0, null);
    }
    Record over = bad.get((int) allowed);
    int before = (int) good().stream().filter(r -> r.line() < over.line()).count();
    return new Outcome("FAILED", over.line(), before, 0, null);
  }

  /**
   * The first {@code rows} good records under the header, without a byte order mark: what {@code
   * psql \copy} of the same file must load (it cannot skip bad records, nor a BOM).
   */
  public byte[] goodFile(int rows) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int start = bom ? BOM.length : 0;
    out.write(body, start, headerEnd - start);
    for (Record r : good().subList(0, rows)) {
      out.write(body, r.from(), r.to() - r.from());
    }
    return out.toByteArray();
  }

  /** {@code CREATE TABLE} of a table with the columns the import must create. */
  public String createTable(String table) {
    List<String> columns = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      columns.add('"' + names.get(i).replace("\"", "\"\"") + "\" " + types.get(i).sql);
    }
    return "CREATE TABLE " + table + " (" + String.join(", ", columns) + ")";
  }

  /** The options of {@code psql \copy} that read this file as the import does. */
  public String copyOptions() {
    String d = delimiter == '\t' ? "E'\\t'" : "'" + delimiter + "'";
    return ", HEADER " + header + ", DELIMITER " + d;
  }

  /** One line for logs. */
  public String summary() {
    List<Record> bad = bad();
    long blank = records.stream().filter(Record::blank).count();
    int widest = records.stream().mapToInt(r -> r.to() - r.from()).max().orElse(0);
    return String.format(
        "%s: %d bytes, %d records (%d good, %d bad%s, %d blank), widest %d bytes, %d columns %s,"
            + " %s, onError=%s%s; %s",
        id,
        body.length,
        records.size(),
        good().size(),
        bad.size(),
        bad.isEmpty()
            ? ""
            : " " + bad.stream().map(r -> r.bad().name()).distinct().sorted().toList(),
        blank,
        widest,
        names.size(),
        types.stream().map(k -> k.name().toLowerCase()).toList(),
        header ? "header" : "no header",
        skip ? "skip" : "fail",
        maxErrors == null ? "" : " maxErrors=" + maxErrors,
        features);
  }

  @Override
  public String toString() {
    return id;
  }
}
