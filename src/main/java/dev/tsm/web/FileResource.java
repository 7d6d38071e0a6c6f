package dev.tsm.web;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.csv.FileStore;
import dev.tsm.exporting.Compression;
import dev.tsm.task.Task;
import dev.tsm.task.TaskEvents;
import dev.tsm.task.TaskKind;
import dev.tsm.task.TaskService;
import dev.tsm.task.TaskState;
import io.smallrye.common.annotation.Blocking;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.PathPart;

/** The file of a completed export: streamed from disk, with ETag and single byte ranges. */
@Path("/tasks/{id}/file")
@Tag(name = "Exports")
public class FileResource {
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

  private final TaskService tasks;
  private final TaskEvents events;
  private final FileStore files;
  private final Callers callers;
  private final Config config;
  private final Semaphore followers;

  FileResource(
      TaskService tasks, TaskEvents events, FileStore files, Callers callers, Config config) {
    this.tasks = tasks;
    this.events = events;
    this.files = files;
    this.callers = callers;
    this.config = config;
    this.followers = new Semaphore(Math.max(0, config.export().maxFollowers()));
  }

  @GET
  @Blocking
  @Produces({"text/csv", "application/gzip"})
  @Operation(
      operationId = "downloadExport",
      summary = "Download the CSV file of a completed export",
      description =
          "Supports a single byte range (Range: bytes=a-b, a-, -n) and If-None-Match with the"
              + " ETag; the file never changes once complete. An export asked with"
              + " compression=gzip is sent as it is stored: application/gzip, named"
              + " <table>.csv.gz, without Content-Encoding (lengths, ranges and the ETag are of"
              + " the compressed bytes). With follow=true, the file of an"
              + " export still PENDING, RUNNING or PAUSED is sent as its pages are written (200,"
              + " chunked, no ETag or Range): the body ends as the export completes and is then"
              + " the finished file; if the export is terminated or fails, or makes no progress"
              + " for tsm.export.follow-idle-timeout, the connection is cut before the body's"
              + " end. A completed export is answered as without follow. Any download whose"
              + " client takes no bytes for tsm.export.download-idle-timeout is cut before its"
              + " end (the connection over HTTP/1.1, the stream over HTTP/2); the rest can be"
              + " asked for with a Range.")
  @APIResponse(
      responseCode = "200",
      description = "The file",
      content = {@Content(mediaType = "text/csv"), @Content(mediaType = "application/gzip")})
  @APIResponse(
      responseCode = "206",
      description = "The requested range",
      content = {@Content(mediaType = "text/csv"), @Content(mediaType = "application/gzip")})
  @APIResponse(
      responseCode = "304",
      description =
          "Not modified: only to a request with If-None-Match naming the file's ETag (or *)")
  @APIResponse(responseCode = "404", description = "No such task, or an import (which has no file)")
  @APIResponse(
      responseCode = "409",
      description = "The export is not COMPLETED yet (without follow), or FAILED or TERMINATED")
  @APIResponse(
      responseCode = "503",
      description =
          "follow=true while tsm.export.max-followers downloads already follow running exports"
              + " on this instance; Retry-After says when to try again")
  @APIResponse(
      responseCode = "410",
      description =
          "The file expired (tsm.retention.export-files after completion) and was deleted; the"
              + " problem says when")
  @APIResponse(responseCode = "416", description = "The range lies outside the file")
  public Response download(
      @Parameter(description = "Task id (UUID)") @PathParam("id") String id,
      @Parameter(description = "bytes=first-last, bytes=first- or bytes=-suffix")
          @HeaderParam("Range")
          String range,
      @Parameter(description = "The ETag of a copy the client has: 304 if it is the file's")
          @HeaderParam("If-None-Match")
          String ifNoneMatch,
      @Parameter(
              description =
                  "true: send the file of a running export as it is written, ending when the"
                      + " export completes")
          @QueryParam("follow")
          @DefaultValue("false")
          boolean follow,
      @Context RoutingContext routing) {
    HttpServerRequest request = routing.request();
    Caller caller = callers.current();
    Task task = tasks.get(caller, Ids.parse(id)).await().atMost(Duration.ofSeconds(30));
    if (task.kind() != TaskKind.EXPORT) {
      throw Refusal.notFound("task " + task.id() + " is an import: it has no file to download");
    }
    if (follow && FOLLOWED.contains(task.state())) {
      return followed(caller, task, request);
    }
    if (task.state() != TaskState.COMPLETED) {
      throw new TaskService.TransitionRefused(
          task,
          "the file of task "
              + task.id()
              + " is ready once it is COMPLETED; it is "
              + task.state());
    }
    java.nio.file.Path file = files.exportFile(task.id());
    long size = size(task, file);
    String etag = "\"" + task.id() + "-" + size + "\"";
    if (matches(ifNoneMatch, etag)) {
      // Not Response.notModified(etag): it quotes the already quoted tag a second time.
      return Response.notModified().header("ETag", etag).build();
    }
    Response.ResponseBuilder response;
    // A range of another unit must be ignored (RFC 9110, 14.2): the whole file, 200.
    if (range == null || !range.strip().regionMatches(true, 0, "bytes=", 0, 6)) {
      response = Response.ok(new PathPart(file, 0, size));
    } else {
      long[] span = span(range, size);
      response =
          Response.status(206)
              .entity(new PathPart(file, span[0], span[1] - span[0] + 1))
              .header("Content-Range", "bytes " + span[0] + "-" + span[1] + "/" + size);
    }
    StalledClient.watchSentFile(routing, config.export().downloadIdleTimeout());
    return described(response, task).header("Accept-Ranges", "bytes").header("ETag", etag).build();
  }

  /**
   * The file's type and name: a compressed export is an application/gzip file, sent as stored.
   * Never {@code Content-Encoding: gzip}, which would tell clients to decompress it on the way, and
   * make ranges and lengths count bytes they never see.
   */
  private static Response.ResponseBuilder described(Response.ResponseBuilder response, Task task) {
    Compression compression = Compression.of(task);
    return response
        .type(compression.mediaType())
        .header(
            "Content-Disposition",
            "attachment; filename=\"" + compression.fileName(task.table()) + "\"");
  }

  private static final Set<TaskState> FOLLOWED =
      EnumSet.of(TaskState.PENDING, TaskState.RUNNING, TaskState.PAUSED);

  /** The file of a running export, sent as its pages are written. */
  private Response followed(Caller caller, Task task, HttpServerRequest request) {
    if (!followers.tryAcquire()) {
      throw Refusal.busy(
          "this instance already serves "
              + config.export().maxFollowers()
              + " downloads of running exports (tsm.export.max-followers); try again shortly, or"
              + " download the file once the export is COMPLETED",
          5);
    }
    return described(
            Response.ok(
                new FollowedExport(
                    tasks,
                    events,
                    files,
                    caller,
                    task.id(),
                    config.export().followIdleTimeout(),
                    config.export().downloadIdleTimeout(),
                    followers,
                    request)),
            task)
        .header("Cache-Control", "no-store")
        .build();
  }

  /** If-None-Match: {@code *} or a list of tags, compared weakly (RFC 9110, 13.1.2). */
  private static boolean matches(String ifNoneMatch, String etag) {
    if (ifNoneMatch == null) {
      return false;
    }
    for (String tag : ifNoneMatch.split(",")) {
      String t = tag.strip();
      if (t.equals("*") || (t.startsWith("W/") ? t.substring(2) : t).equals(etag)) {
        return true;
      }
    }
    return false;
  }

  /** First and last byte of a single range; 416 if it lies outside the file. */
  private static long[] span(String range, long size) {
    Matcher m = RANGE.matcher(range.strip().toLowerCase(java.util.Locale.ROOT));
    if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
      throw unsatisfiable(size, "'" + range + "' is not a single byte range such as bytes=0-99");
    }
    long first;
    long last;
    try {
      if (m.group(1).isEmpty()) {
        long suffix = Long.parseLong(m.group(2));
        first = Math.max(0, size - suffix);
        last = size - 1;
        if (suffix == 0) {
          throw unsatisfiable(size, "an empty suffix range selects nothing");
        }
      } else {
        first = Long.parseLong(m.group(1));
        last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
      }
    } catch (NumberFormatException e) {
      throw unsatisfiable(size, "'" + range + "' has a number too large");
    }
    if (first >= size || first > last) {
      throw unsatisfiable(size, "range " + range + " lies outside the file of " + size + " bytes");
    }
    return new long[] {first, last};
  }

  private static RangeNotSatisfiable unsatisfiable(long size, String detail) {
    return new RangeNotSatisfiable(size, detail);
  }

  /** A Range outside the file: 416 with the file's length (see {@link ProblemMapper#range}). */
  public static class RangeNotSatisfiable extends RuntimeException {
    private final long size;

    RangeNotSatisfiable(long size, String detail) {
      super(detail);
      this.size = size;
    }

    public long size() {
      return size;
    }
  }

  /** The file's length; 410 once retention deleted it (or it went missing otherwise). */
  private long size(Task task, java.nio.file.Path file) {
    if (task.fileExpiredAt() != null) {
      throw gone(task);
    }
    try {
      return Files.size(file);
    } catch (NoSuchFileException e) {
      // Expired since the task was read, maybe: the task says when.
      throw gone(tasks.get(Caller.SERVICE, task.id()).await().atMost(Duration.ofSeconds(30)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the export file " + file, e);
    }
  }

  private static Refusal gone(Task task) {
    String detail =
        task.fileExpiredAt() != null
            ? "the file of task "
                + task.id()
                + " expired at "
                + task.fileExpiredAt().toInstant()
                + " and was deleted (files of completed exports are kept for"
                + " tsm.retention.export-files); export the table again"
            : "the file of task "
                + task.id()
                + " is no longer in the file store; export the table again";
    return Refusal.gone(detail);
  }
}
