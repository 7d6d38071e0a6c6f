package dev.tsm.importing;

import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * What an import of a file would do, read from its sample without writing anything: the header,
 * each column's name and type with the reason, the first rows as they would be loaded, and the bad
 * rows found.
 *
 * @param header the header's fields as written (empty without one)
 * @param columns the columns the import would load, in file order
 * @param rows the first rows as they would be loaded, each value text or null (NULL)
 * @param problems bad rows of the sample: a record that cannot be read, or a value its column's
 *     type does not take
 * @param sampledRows data rows read for the preview
 * @param dataOffset byte offset of the first data row
 */
public record ImportPreview(
    List<String> header,
    List<Column> columns,
    List<List<String>> rows,
    List<Problem> problems,
    long sampledRows,
    long dataOffset) {

  /**
   * @param name the column's name (after renaming)
   * @param header its name in the header (null without one)
   * @param type the type it would be loaded as
   * @param inferred the type its sampled values suggest
   * @param reason why it has its type
   * @param sampled values sampled (not NULL)
   * @param nulls NULLs (empty unquoted fields) sampled
   */
  @Schema(name = "PreviewColumn")
  public record Column(
      String name,
      @Schema(nullable = true, description = "Its name in the header; null without one")
          String header,
      String type,
      String inferred,
      String reason,
      long sampled,
      long nulls) {}

  /** A bad row of the sample. */
  @Schema(name = "PreviewProblem")
  public record Problem(long line, String reason) {}
}
