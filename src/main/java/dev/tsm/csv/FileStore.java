package dev.tsm.csv;

import dev.tsm.Config;
import dev.tsm.ProblemException;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The folder of task files, shared by all replicas. File names are made by the server from task
 * ids; no client text ever becomes a path.
 */
@ApplicationScoped
public class FileStore {
  private static final int WRITE_CHUNK = 1 << 20;
  private final Path imports;
  private final Path exports;

  public FileStore(Config config) {
    Path root = Path.of(config.storage().dir()).toAbsolutePath();
    this.imports = root.resolve("imports");
    this.exports = root.resolve("exports");
  }

  /** An uploaded file, complete on disk. */
  public record Staged(Path path, long size, String sha256) {}

  public Path importFile(UUID taskId) {
    return imports.resolve(taskId + ".csv");
  }

  /** An export's file while it is written. */
  public Path exportPart(UUID taskId) {
    return exports.resolve(taskId + ".csv.part");
  }

  /** An export's finished file. */
  public Path exportFile(UUID taskId) {
    return exports.resolve(taskId + ".csv");
  }

  /**
   * Opens an export's partial file for appending at {@code length}, the length its checkpoint
   * recorded: anything written after that checkpoint is cut off.
   */
  public FileChannel openExport(UUID taskId, long length) throws IOException {
    Files.createDirectories(exports);
    Path part = exportPart(taskId);
    Path done = exportFile(taskId);
    if (!Files.exists(part) && Files.exists(done)) {
      // Renamed just before a completion that did not commit: take it back.
      Files.move(done, part, StandardCopyOption.ATOMIC_MOVE);
    }
    if (length > 0 && (!Files.exists(part) || Files.size(part) < length)) {
      throw new IOException(
          "the partial export file "
              + part
              + " is missing or shorter than its checkpoint ("
              + length
              + " bytes)");
    }
    FileChannel channel =
        FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    channel.truncate(length);
    channel.position(length);
    return channel;
  }

  /** Publishes a finished export under its final name, atomically. */
  public void publishExport(UUID taskId) throws IOException {
    Files.move(exportPart(taskId), exportFile(taskId), StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Streams a request body to the task's staged file without a blocking thread: chunks are hashed
   * and written as they arrive, the request paused while the disk catches up. The returned upload
   * tells readers how much is on disk while it grows; {@code done} completes once the body ended
   * and all of it is on disk. When the body breaks off, the caller decides when readers learn it
   * ({@link Upload#fail}): a task reading it may have to be stopped first.
   */
  public Receiving receive(UUID taskId, HttpServerRequest request, long maxBytes, Context context) {
    Path target = importFile(taskId);
    Receiving receiving = new Receiving(target, new Upload());
    Vertx vertx = context.owner();
    Uni<Staged> done =
        Uni.createFrom()
            .<Staged>emitter(
                emitter ->
                    // The file and the request must be used from the request's own context.
                    context.runOnContext(
                        ignored -> {
                          request.pause();
                          vertx
                              .fileSystem()
                              .mkdirs(imports.toString())
                              .compose(
                                  v ->
                                      vertx
                                          .fileSystem()
                                          .open(
                                              target.toString(),
                                              new OpenOptions()
                                                  .setWrite(true)
                                                  .setCreate(true)
                                                  .setTruncateExisting(true)))
                              .onFailure(emitter::fail)
                              .onSuccess(
                                  file ->
                                      new Writer(request, file, maxBytes, receiving, emitter)
                                          .start());
                        }))
            .onFailure()
            .invoke(e -> deleteQuietly(target))
            .memoize()
            .indefinitely();
    receiving.done = done;
    done.subscribe().with(staged -> {}, failure -> {}); // start now; the outcome is kept
    return receiving;
  }

  private static final IllegalStateException REFUSED =
      new IllegalStateException("the upload was refused before its end");

  /** A body being written to disk. */
  public static final class Receiving {
    private final Path path;
    private final Upload upload;
    private volatile boolean discarding;
    private Uni<Staged> done;

    Receiving(Path path, Upload upload) {
      this.path = path;
      this.upload = upload;
    }

    public Path path() {
      return path;
    }

    public Upload upload() {
      return upload;
    }

    /** Completes once the whole body is on disk; fails if it broke off or passed the limit. */
    public Uni<Staged> done() {
      return done;
    }

    /**
     * Keeps reading the body to its end but throws it away (the request was refused early, and the
     * client is still sending): {@link #done()} then fails, and the file is deleted.
     */
    public void discard() {
      discarding = true;
    }
  }

  /** Writes one request body: few large writes, and the length of the gap-free prefix on disk. */
  private static final class Writer {
    private final HttpServerRequest request;
    private final AsyncFile file;
    private final long maxBytes;
    private final Receiving receiving;
    private final UniEmitter<? super Staged> emitter;
    private final MessageDigest sha = sha256();
    // Writes complete in any order; the upload advances over those whose predecessors are done.
    private final ArrayDeque<long[]> inFlight = new ArrayDeque<>();
    private Buffer pending = Buffer.buffer(WRITE_CHUNK + (1 << 16));
    private long size;
    private long queued;
    private boolean failed;

    Writer(
        HttpServerRequest request,
        AsyncFile file,
        long maxBytes,
        Receiving receiving,
        UniEmitter<? super Staged> emitter) {
      this.request = request;
      this.file = file;
      this.maxBytes = maxBytes;
      this.receiving = receiving;
      this.emitter = emitter;
    }

    void start() {
      request.handler(this::chunk);
      request.exceptionHandler(
          e ->
              fail(
                  new UncheckedIOException("the upload broke off: " + e.getMessage(), e(e)),
                  false));
      if (request.isEnded()) {
        // A short (or empty) body may have arrived whole before anyone listened.
        end();
        return;
      }
      request.endHandler(v -> end());
      request.resume();
    }

    private void chunk(Buffer chunk) {
      if (failed) {
        return;
      }
      if (receiving.discarding) {
        fail(REFUSED, true);
        return;
      }
      size += chunk.length();
      if (size > maxBytes) {
        fail(tooLarge(maxBytes), false);
        return;
      }
      sha.update(chunk.getByteBuf().nioBuffer());
      pending.appendBuffer(chunk);
      if (pending.length() >= WRITE_CHUNK) {
        write();
      }
      if (file.writeQueueFull()) {
        request.pause();
        file.drainHandler(v -> request.resume());
      }
    }

    /** Each AsyncFile write is a task of its own: write in large pieces. */
    private Future<Void> write() {
      long[] piece = {queued + pending.length(), 0};
      queued = piece[0];
      inFlight.add(piece);
      Future<Void> written = file.write(pending);
      pending = Buffer.buffer(WRITE_CHUNK + (1 << 16));
      return written.onSuccess(
          v -> {
            piece[1] = 1;
            while (!inFlight.isEmpty() && inFlight.peek()[1] == 1) {
              receiving.upload.advance(inFlight.poll()[0]);
            }
          });
    }

    private void end() {
      if (failed) {
        return;
      }
      if (receiving.discarding) {
        fail(REFUSED, true);
        return;
      }
      failed = true; // the body is whole: a late connection error changes nothing
      write()
          .compose(written -> file.close())
          .onFailure(emitter::fail)
          .onSuccess(
              closed -> {
                // Every byte is on disk: readers (the sample of a body still arriving, whatever
                // its row count) may take the end of the file for the end of the data.
                receiving.upload.finish();
                emitter.complete(
                    new Staged(receiving.path, size, HexFormat.of().formatHex(sha.digest())));
              });
    }

    /**
     * Stops writing; with {@code drain}, reads the rest of the body so the client gets an answer.
     */
    private void fail(RuntimeException e, boolean drain) {
      if (failed) {
        return;
      }
      failed = true;
      file.close();
      if (drain) {
        request.handler(ignored -> {});
        request.endHandler(v -> emitter.fail(e));
        request.exceptionHandler(x -> emitter.fail(e));
        request.resume();
        if (request.isEnded()) {
          emitter.fail(e);
        }
        return;
      }
      emitter.fail(e);
    }

    private static IOException e(Throwable t) {
      return t instanceof IOException io ? io : new IOException(t);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Takes over a file the HTTP layer already wrote to disk (multipart upload). */
  public Staged adopt(UUID taskId, Path uploaded, long maxBytes) {
    try {
      long size = Files.size(uploaded);
      if (size > maxBytes) {
        throw tooLarge(maxBytes);
      }
      Files.createDirectories(imports);
      Path target = importFile(taskId);
      Files.move(uploaded, target, StandardCopyOption.REPLACE_EXISTING);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      try (InputStream in = new DigestInputStream(Files.newInputStream(target), sha)) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      return new Staged(target, size, HexFormat.of().formatHex(sha.digest()));
    } catch (IOException e) {
      throw new UncheckedIOException("could not store the upload: " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ProblemException tooLarge(long maxBytes) {
    return new ProblemException(
        413,
        "Payload too large",
        "the upload is larger than the limit of " + maxBytes + " bytes (tsm.import.max-body-size)");
  }

  public void delete(Path path) {
    deleteQuietly(path);
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException ignored) {
      // A leftover file is harmless: names are unique per task.
    }
  }
}
