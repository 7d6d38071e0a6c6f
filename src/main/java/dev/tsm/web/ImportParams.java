package dev.tsm.web;

import dev.tsm.access.Caller;
import dev.tsm.importing.ImportOptions;
import dev.tsm.importing.ImportService;
import dev.tsm.task.CallbackUrl;
import jakarta.ws.rs.QueryParam;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
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
              + " table are matched by header name",
      schema =
          @Schema(
              type = SchemaType.STRING,
              enumeration = {"create", "append", "replace", "upsert"},
              defaultValue = "create"),
      examples = {
        @ExampleObject(name = "create", value = "create", summary = "A new table"),
        @ExampleObject(
            name = "replace",
            value = "replace",
            summary = "An existing table's rows replaced at completion"),
        @ExampleObject(
            name = "upsert",
            value = "upsert",
            summary = "Rows merged on key (with key=id)")
      })
  @QueryParam("mode")
  public String mode;

  @Parameter(
      description =
          "With mode=upsert: the columns that identify a row, comma-separated; a unique index"
              + " (or primary key) of the table must cover exactly them",
      example = "id")
  @QueryParam("key")
  public String key;

  @Parameter(
      description = "One ASCII character; default ,; \\t for a tab",
      schema = @Schema(type = SchemaType.STRING, defaultValue = ","))
  @QueryParam("delimiter")
  public String delimiter;

  @Parameter(
      description = "Whether the first line names the columns (default true)",
      schema = @Schema(type = SchemaType.BOOLEAN, defaultValue = "true"))
  @QueryParam("header")
  public String header;

  @Parameter(
      description =
          "fail (default): the first bad row fails the task; skip: bad rows are set aside",
      schema =
          @Schema(
              type = SchemaType.STRING,
              enumeration = {"fail", "skip"},
              defaultValue = "fail"))
  @QueryParam("onError")
  public String onError;

  @Parameter(
      description = "With onError=skip: fail once more than this many rows are bad",
      schema = @Schema(type = SchemaType.INTEGER, format = "int64", minimum = "0"))
  @QueryParam("maxErrors")
  public String maxErrors;

  @Parameter(
      description =
          "URL (absolute http or https, up to 2048 characters) the final task is POSTed to when"
              + " the task ends: once per final state, signed, retried (see the README)",
      example = "https://example.com/hooks/tsm")
  @QueryParam("callback")
  public String callback;

  @Parameter(
      description =
          "With mode=create: column:type pairs, comma-separated, giving columns PostgreSQL types"
              + " instead of the inferred ones (a base, domain or enum type; a comma inside"
              + " parentheses belongs to the type). A column is named as after renaming, or as in"
              + " the header. A value that does not fit its type is a bad row",
      example = "zip:text,amount:numeric(12,2)")
  @QueryParam("types")
  public String types;

  @Parameter(
      description =
          "header:column pairs, comma-separated: the header's names renamed (with any mode; into"
              + " an existing table the new names are matched to its columns)",
      example = "Zip Code:zip")
  @QueryParam("rename")
  public String rename;

  /** The request they make for {@code caller}, checked (400 for a bad value). */
  ImportService.Request request(Caller caller) {
    return new ImportService.Request(
        caller,
        table,
        ImportOptions.parse(mode, delimiter, header, onError, maxErrors, key, types, rename),
        CallbackUrl.check(callback));
  }
}
