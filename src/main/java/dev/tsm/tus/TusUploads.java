package dev.tsm.tus;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.access.Caller;
import dev.tsm.csv.FileStore;
import dev.tsm.db.TableName;
import dev.tsm.db.Transactions;
import dev.tsm.importing.ImportOptions;
import dev.tsm.importing.ImportService;
import dev.tsm.task.CallbackUrl;
import dev.tsm.task.TaskLog;
import dev.tsm.task.TaskRunner;
import dev.tsm.task.TaskService;
import dev.tsm.upload.BlockingBody;
import dev.tsm.upload.StagingSpace;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Resumable uploads, each feeding one import task: creation, offsets, appends, termination. Every
 * method blocks (files, JDBC): call on a worker thread. Any replica can take any request: the
 * offset is kept in PostgreSQL and moves by compare-and-set, the bytes go to the shared volume.
 */
@ApplicationScoped
public class TusUploads {
  private static final Logger LOG = Logger.getLogger(TusUploads.class);
  private static final int CHUNK = 1 << 16;
  private static final Duration DB_WAIT = Duration.ofSeconds(30);

  private final Config config;
  private final FileStore files;
  private final Transactions transactions;
  private final ImportService imports;
  private final TaskService tasks;
  private final TaskRunner runner;
  private final StagingSpace space;
  private final Decoders decoders;

  TusUploads(
      Config config,
      FileStore files,
      Transactions transactions,
      ImportService imports,
      TaskService tasks,
      TaskRunner runner,
      StagingSpace space,
      Decoders decoders) {
    this.config = config;
    this.files = files;
    this.transactions = transactions;
    this.imports = imports;
    this.tasks = tasks;
    this.runner = runner;
    this.space = space;
    this.decoders = decoders;
  }

  /** An upload as a client sees it. */
  public record State(
      UUID id,
      UUID taskId,
      long offset,
      Long length,
      String metadata,
      java.time.OffsetDateTime expiresAt,
      boolean complete) {
    static State of(UploadRow u) {
      return new State(
          u.id(),
          u.taskId(),
          u.received(),
          u.length(),
          u.metadata(),
          u.ended() == null ? u.expiresAt() : null,
          u.complete());
    }
  }

  /** What a creation request declares. */
  public record Creation(Long length, boolean deferLength, String metadata) {}

  /** What an append request declares. */
  public record Append(long offset, Long length, long contentLength, String checksum) {}

  /**
   * Creates an upload and the import task it feeds, checked as {@code POST /imports} is before its
   * body: the table and options come from the metadata.
   */
  public State create(Caller caller, Creation creation) {
    Long length = creation.length();
    if ((length == null) == !creation.deferLength()) {
      throw Refusal.invalid(
          "send either Upload-Length (the file's size in bytes) or Upload-Defer-Length: 1");
    }
    long max = config.importing().maxBodySize().asLongValue();
    if (length != null && length > max) {
      throw Refusal.tooLarge(
          "the upload declares "
              + length
              + " bytes, over the limit of "
              + max
              + " bytes (tsm.import.max-body-size)");
    }
    Map<String, String> meta = UploadMetadata.parse(creation.metadata());
    String table = meta.get("table");
    if (table == null || table.isBlank()) {
      throw Refusal.invalid(
          "Upload-Metadata must name the target table: a key 'table' with the Base64 of its name");
    }
    ImportService.Request request =
        new ImportService.Request(
            caller,
            table,
            ImportOptions.parse(
                meta.get("mode"),
                meta.get("delimiter"),
                meta.get("header"),
                meta.get("onError"),
                meta.get("maxErrors"),
                meta.get("key"),
                meta.get("types"),
                meta.get("rename")),
            CallbackUrl.check(meta.get("callback")));
    TableName target = imports.admit(request);
    UUID taskId = UUID.randomUUID();
    UploadRow row =
        new UploadRow(
            UUID.randomUUID(),
            taskId,
            caller.subject(),
            length,
            0,
            0,
            declaresGzip(meta),
            creation.metadata(),
            null,
            null);
    UploadRow created =
        transactions.inTransaction(
            c -> {
              imports.insertUploadTask(c, taskId, target, request);
              UploadStore.insert(c, row, config.upload().expiry());
              return UploadStore.find(c, row.id());
            });
    TaskLog.info(
        LOG,
        taskId,
        "task %s: resumable upload %s created for an import into %s (%s bytes)",
        taskId,
        row.id(),
        target,
        length == null ? "length deferred" : length);
    return State.of(created);
  }

  private static boolean declaresGzip(Map<String, String> meta) {
    String name = meta.getOrDefault("filename", meta.getOrDefault("name", ""));
    String compression = meta.getOrDefault("compression", "");
    return name.toLowerCase(Locale.ROOT).endsWith(".gz") || "gzip".equalsIgnoreCase(compression);
  }

  /** The upload, if the caller may see it: 404 otherwise, 410 once it was terminated or expired. */
  public State get(Caller caller, UUID id) {
    return State.of(visible(caller, transactions.withConnection(c -> UploadStore.find(c, id))));
  }

  private UploadRow visible(Caller caller, UploadRow u) {
    if (u == null || !(caller.admin() || caller.subject().equals(u.createdBy()))) {
      throw Refusal.notFound("there is no upload with this id");
    }
    return notEnded(u);
  }

  /** The upload, unless it ended without completing (410). */
  private UploadRow notEnded(UploadRow u) {
    if (UploadRow.TERMINATED.equals(u.ended())) {
      throw Refusal.gone("this upload was terminated, with the import it fed");
    }
    if (UploadRow.EXPIRED.equals(u.ended())) {
      throw Refusal.gone(
          "this upload expired: nothing arrived for "
              + config.upload().expiry().toString().substring(2).toLowerCase(Locale.ROOT)
              + " (tsm.upload.expiry); its import was terminated");
    }
    return u;
  }

  /**
   * Appends one request's bytes at {@code offset}. Bytes are kept as they arrive: a request that
   * breaks off keeps what came (unless it carries a checksum, which only the whole can match). The
   * offset moves in one transaction at the end, fenced on this request's hold of the upload. The
   * body is opened ({@code opener}: the client told to send it) only once the request is taken.
   */
  public State append(Caller caller, UUID id, Append append, Supplier<BlockingBody> opener) {
    String writer = runner.instanceId() + "/" + UUID.randomUUID();
    Checksum checksum = Checksum.parse(append.checksum());
    UploadRow u = transactions.inTransaction(c -> take(c, caller, id, append, writer));
    if (u == null) {
      return unchanged(caller, id, opener.get());
    }
    try {
      return State.of(write(u, append, checksum, opener.get(), writer));
    } finally {
      transactions.withConnection(
          c -> {
            UploadStore.letGo(c, id, writer);
            return null;
          });
    }
  }

  /**
   * A complete upload, and a request at its end that declared no bytes: the offset stays. A body of
   * unknown length (chunked) is read first: the client was told to send it (100 Continue), and one
   * answered before it ends may wait for another answer (tus-java-client does); a byte in it is
   * more than the upload holds.
   */
  private State unchanged(Caller caller, UUID id, BlockingBody body) {
    State state = get(caller, id);
    int first;
    try {
      first = body.read();
    } catch (IOException e) {
      first = -1; // broke off: nothing changed, and no one to tell
    }
    if (first != -1) {
      throw complete(state.offset());
    }
    return state;
  }

  private static Refusal complete(long received) {
    return Refusal.conflict(
        "this upload is complete (" + received + " bytes): there is nothing more to send");
  }

  /** Takes the upload for this request, after the protocol's checks; null for an empty no-op. */
  private UploadRow take(
      java.sql.Connection c, Caller caller, UUID id, Append append, String writer)
      throws java.sql.SQLException {
    UploadRow found = visible(caller, UploadStore.find(c, id));
    if (found.complete()) {
      // A client whose last answer was lost may send nothing more at the end: that is no change.
      if (append.offset() == found.received() && append.contentLength() <= 0) {
        return null;
      }
      throw complete(found.received());
    }
    UploadRow taken = UploadStore.take(c, id, writer, config.upload().writerLease());
    if (taken == null) {
      throw Refusal.locked(
          "another request is writing to this upload right now; retry once it is done (HEAD"
              + " tells the offset)");
    }
    if (append.offset() != taken.received()) {
      throw Refusal.conflict(
          "Upload-Offset is "
              + append.offset()
              + " but the upload has "
              + taken.received()
              + " bytes: send from there (HEAD tells the offset)");
    }
    Long length = taken.length();
    if (append.length() != null) {
      if (length != null && !length.equals(append.length())) {
        throw Refusal.invalid(
            "Upload-Length was declared as " + length + " bytes and cannot change");
      }
      if (append.length() < taken.received()) {
        throw Refusal.invalid(
            "Upload-Length " + append.length() + " is less than the bytes already received");
      }
      length = append.length();
    }
    long max = length != null ? length : config.importing().maxBodySize().asLongValue();
    if (append.contentLength() > 0 && taken.received() + append.contentLength() > max) {
      throw tooLarge(taken, length, max);
    }
    return taken;
  }

  private Refusal tooLarge(UploadRow u, Long length, long max) {
    return Refusal.tooLarge(
        length != null
            ? "the request brings more than the "
                + (length - u.received())
                + " bytes left of the declared Upload-Length ("
                + length
                + "): nothing of it was kept"
            : "the upload would pass the limit of "
                + max
                + " bytes (tsm.import.max-body-size): nothing of this request was kept");
  }

  private UploadRow write(
      UploadRow u, Append append, Checksum checksum, BlockingBody body, String writer) {
    Long length = u.length() != null ? u.length() : append.length();
    long max = length != null ? length : config.importing().maxBodySize().asLongValue();
    long start = u.received();
    StagingSpace.Reservation room =
        space.reserve(u.taskId(), append.contentLength() > 0 ? append.contentLength() : -1);
    MessageDigest digest = checksum == null ? null : checksum.digest();
    byte[] buf = new byte[CHUNK];
    long n = 0;
    IOException broke = null;
    boolean gzip = u.gzip();
    Decoders.Decoding decoding = null;
    Path raw = null;
    try {
      int first;
      try {
        first = Math.max(0, readFully(body, buf));
      } catch (IOException e) {
        broke = e; // cut within its first two bytes: nothing of it is kept
        first = 0;
      }
      if (start == 0 && !gzip && first >= 2 && (buf[0] & 0xff) == 0x1f && (buf[1] & 0xff) == 0x8b) {
        gzip = true; // the gzip magic: decompressed as it arrives, whatever the name said
      }
      raw = gzip ? files.importUpload(u.taskId()) : files.importFile(u.taskId());
      Files.createDirectories(raw.getParent());
      try (FileChannel out =
          FileChannel.open(raw, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        out.truncate(start); // what a request that broke off before its commit left
        decoding = gzip ? decoders.resume(u, raw) : null;
        long lastRenew = System.nanoTime();
        int r = first;
        while (r > 0) {
          if (start + n + r > max) {
            throw tooLarge(u, length, max);
          }
          Refusal refused = room.written(n + r);
          if (refused != null) {
            throw refused;
          }
          ByteBuffer piece = ByteBuffer.wrap(buf, 0, r);
          while (piece.hasRemaining()) {
            out.write(piece, start + n + (r - piece.remaining()));
          }
          if (digest != null) {
            digest.update(buf, 0, r);
          }
          if (decoding != null) {
            decoding.feed(buf, 0, r);
          }
          n += r;
          if (System.nanoTime() - lastRenew > config.upload().writerLease().toNanos() / 3) {
            renew(u.id(), writer);
            lastRenew = System.nanoTime();
          }
          try {
            r = body.read(buf);
          } catch (IOException e) {
            broke = e;
            r = -1;
          }
        }
        if (broke != null && digest != null) {
          throw Refusal.invalid(
              "the request broke off ("
                  + broke.getMessage()
                  + "); its bytes come with a checksum, so none of them were kept");
        }
        if (digest != null && !checksum.matches(digest)) {
          throw Refusal.checksumMismatch(
              "the "
                  + n
                  + " bytes received do not match their "
                  + checksum.algorithm()
                  + " checksum (Upload-Checksum): none of them were kept; send them again");
        }
        boolean complete = length != null && start + n == length;
        if (decoding != null && complete) {
          decoding.finish();
        }
        out.force(false);
        if (decoding != null) {
          decoding.force();
        }
      }
      long plain = decoding != null ? decoding.plain() : start + n;
      long end = start + n;
      boolean detected = gzip && !u.gzip();
      UploadRow moved =
          transactions.inTransaction(
              c ->
                  UploadStore.advance(
                      c,
                      u.id(),
                      writer,
                      start,
                      end,
                      plain,
                      append.length(),
                      config.upload().expiry(),
                      detected));
      if (moved == null) {
        // Terminated or expired meanwhile: say so (410); else another request took over.
        transactions.withConnection(c -> notEnded(UploadStore.find(c, u.id())));
        throw Refusal.locked(
            "this request lost its hold on the upload (it was silent past"
                + " tsm.upload.writer-lease and another request took over): its bytes were not"
                + " kept");
      }
      if (decoding != null && !moved.complete()) {
        decoders.keep(moved, decoding);
        decoding = null;
      }
      room.release(0);
      arrived(moved);
      if (broke != null) {
        LOG.infof(
            "upload %s: a request broke off after %d bytes (%s); they are kept",
            u.id(), n, broke.getMessage());
      }
      return moved;
    } catch (Decoders.CorruptException e) {
      room.release(0);
      failImport(u, e.getMessage());
      String detail = e.getMessage() + "; the import was terminated";
      throw e instanceof Decoders.TooLargeException
          ? Refusal.tooLarge(detail)
          : Refusal.invalid(detail);
    } catch (IOException e) {
      room.release(0);
      throw new UncheckedIOException("could not write the upload: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      room.release(0);
      throw e;
    } finally {
      if (decoding != null) {
        decoding.close();
      }
    }
  }

  /** Reads until {@code buf} is full or the body ended; -1 for an empty body. */
  private static int readFully(BlockingBody body, byte[] buf) throws IOException {
    int filled = 0;
    while (filled < 2) {
      int r = body.read(buf, filled, buf.length - filled);
      if (r < 0) {
        return filled == 0 ? -1 : filled;
      }
      filled += r;
    }
    return filled;
  }

  private void renew(UUID id, String writer) {
    boolean held =
        transactions.withConnection(
            c -> UploadStore.renew(c, id, writer, config.upload().writerLease()));
    if (!held) {
      throw Refusal.locked("this request lost its hold on the upload to another request");
    }
  }

  /**
   * Bytes arrived: the import is planned once its first rows are here (a file that cannot be
   * imported ends the task), and a task waiting for them can be taken again.
   */
  private void arrived(UploadRow u) {
    try {
      imports.planUpload(u.taskId(), u.plain(), u.complete());
    } catch (Refusal e) {
      failImport(u, e.getMessage());
      throw Refusal.invalid(e.getMessage() + "; the import was terminated");
    }
    runner.dispatch();
  }

  private void failImport(UploadRow u, String reason) {
    TaskLog.warn(
        LOG, u.taskId(), "task %s: upload %s cannot be imported: %s", u.taskId(), u.id(), reason);
    tasks.terminate(u.taskId(), reason).await().atMost(DB_WAIT);
  }

  /**
   * Terminates an upload: its import is terminated (the database and the files as before it), its
   * bytes deleted. A completed import stays; only the upload's own bytes go.
   */
  public void terminate(Caller caller, UUID id) {
    UploadRow u = visible(caller, transactions.withConnection(c -> UploadStore.find(c, id)));
    tasks
        .get(caller, u.taskId())
        .flatMap(
            task ->
                task.state().isFinal()
                    ? Uni.createFrom().item(task)
                    : tasks.terminate(caller, u.taskId()))
        .await()
        .atMost(DB_WAIT);
    transactions.withConnection(
        c -> {
          UploadStore.terminated(c, id);
          return null;
        });
    files.delete(files.importUpload(u.taskId()));
    decoders.forget(id);
  }
}
