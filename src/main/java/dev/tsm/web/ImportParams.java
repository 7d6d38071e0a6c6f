package dev.tsm.web;

import dev.tsm.access.Caller;
import dev.tsm.importing.ImportOptions;
import dev.tsm.importing.ImportService;
import dev.tsm.task.CallbackUrl;
import jakarta.ws.rs.QueryParam;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

/** The query parameters of an import, shared by {@code POST /imports} and {@code /upload/start}. */
public class ImportParams {
  @Parameter(description = "Target table: name or schema.name", required = true, example = "sales")
  @QueryParam("table")
  public String table;

  @Parameter(
      description =
          "create (default): a new table; append: rows added to an existing one; replace: an"
              + " existing table's rows replaced at completion (readers see the old rows until"
              + " then); upsert: rows merged into an existing table on key. Columns of an existing"
              + " table are matched by header name")
  @QueryParam("mode")
  public String mode;

  @Parameter(
      description =
          "With mode=upsert: the columns that identify a row, comma-separated; a unique index"
              + " (or primary key) of the table must cover exactly them",
      example = "id")
  @QueryParam("key")
  public String key;

  @Parameter(description = "One ASCII character; default ,; \\t for a tab")
  @QueryParam("delimiter")
  public String delimiter;

  @Parameter(description = "Whether the first line names the columns (default true)")
  @QueryParam("header")
  public String header;

  @Parameter(
      description =
          "fail (default): the first bad row fails the task; skip: bad rows are set aside")
  @QueryParam("onError")
  public String onError;

  @Parameter(description = "With onError=skip: fail once more than this many rows are bad")
  @QueryParam("maxErrors")
  public String maxErrors;

  @Parameter(
      description =
          "URL (absolute http or https, up to 2048 characters) the final task is POSTed to when"
              + " the task ends: once per final state, signed, retried (see the README)",
      example = "https://example.com/hooks/tsm")
  @QueryParam("callback")
  public String callback;

  /** The request they make for {@code caller}, checked (400 for a bad value). */
  ImportService.Request request(Caller caller) {
    return new ImportService.Request(
        caller,
        table,
        ImportOptions.parse(mode, delimiter, header, onError, maxErrors, key),
        CallbackUrl.check(callback));
  }
}
