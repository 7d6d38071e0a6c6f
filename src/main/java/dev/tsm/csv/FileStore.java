package dev.tsm.csv;

import dev.tsm.Config;
import dev.tsm.ProblemException;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
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
import java.util.HexFormat;
import java.util.UUID;

/**
 * The folder of task files, shared by all replicas. File names are made by the server from task
 * ids; no client text ever becomes a path.
 */
@ApplicationScoped
public class FileStore {
  private static final int COPY_BUFFER = 1 << 16;
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
   * Streams a body to the task's staged file, never holding it whole in memory; the file appears
   * under its final name only once complete.
   *
   * @throws ProblemException 413 past {@code maxBytes}
   */
  public Staged stage(UUID taskId, InputStream body, long maxBytes) {
    Path target = importFile(taskId);
    Path partial = target.resolveSibling(taskId + ".upload");
    try {
      Files.createDirectories(imports);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long size = 0;
      try (InputStream in = new DigestInputStream(body, sha);
          OutputStream out = Files.newOutputStream(partial)) {
        byte[] buffer = new byte[COPY_BUFFER];
        int n;
        while ((n = in.read(buffer)) > 0) {
          size += n;
          if (size > maxBytes) {
            throw tooLarge(maxBytes);
          }
          out.write(buffer, 0, n);
        }
      }
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      return new Staged(target, size, HexFormat.of().formatHex(sha.digest()));
    } catch (IOException e) {
      deleteQuietly(partial);
      throw new UncheckedIOException("could not store the upload: " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (RuntimeException e) {
      deleteQuietly(partial);
      throw e;
    }
  }

  /**
   * Streams a request body to the task's staged file without a blocking thread: chunks are hashed
   * and written as they arrive, the request paused while the disk catches up.
   */
  public Uni<Staged> stage(UUID taskId, HttpServerRequest request, long maxBytes, Context context) {
    Path target = importFile(taskId);
    Path partial = target.resolveSibling(taskId + ".upload");
    Vertx vertx = context.owner();
    return Uni.createFrom()
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
                                          partial.toString(),
                                          new OpenOptions()
                                              .setWrite(true)
                                              .setCreate(true)
                                              .setTruncateExisting(true)))
                          .onFailure(emitter::fail)
                          .onSuccess(
                              file -> receive(request, file, maxBytes, partial, target, emitter));
                    }))
        .onFailure()
        .invoke(e -> deleteQuietly(partial));
  }

  private void receive(
      HttpServerRequest request,
      AsyncFile file,
      long maxBytes,
      Path partial,
      Path target,
      UniEmitter<? super Staged> emitter) {
    MessageDigest sha = sha256();
    long[] size = {0};
    boolean[] failed = {false};
    Buffer[] pending = {Buffer.buffer(WRITE_CHUNK + (1 << 16))};
    request.handler(
        chunk -> {
          if (failed[0]) {
            return;
          }
          size[0] += chunk.length();
          if (size[0] > maxBytes) {
            failed[0] = true;
            file.close();
            emitter.fail(tooLarge(maxBytes));
            return;
          }
          sha.update(chunk.getByteBuf().nioBuffer());
          pending[0].appendBuffer(chunk);
          if (pending[0].length() >= WRITE_CHUNK) {
            // Few large writes: each AsyncFile write is a task of its own.
            file.write(pending[0]);
            pending[0] = Buffer.buffer(WRITE_CHUNK + (1 << 16));
          }
          if (file.writeQueueFull()) {
            request.pause();
            file.drainHandler(v -> request.resume());
          }
        });
    request.exceptionHandler(
        e -> {
          if (!failed[0]) {
            failed[0] = true;
            file.close();
            emitter.fail(
                new UncheckedIOException(
                    "the upload broke off: " + e.getMessage(), new IOException(e)));
          }
        });
    Runnable end =
        () -> {
          if (failed[0]) {
            return;
          }
          file.write(pending[0])
              .compose(written -> file.close())
              .onFailure(emitter::fail)
              .onSuccess(
                  closed -> {
                    try {
                      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                      emitter.complete(
                          new Staged(target, size[0], HexFormat.of().formatHex(sha.digest())));
                    } catch (IOException e) {
                      emitter.fail(new UncheckedIOException("could not store the upload", e));
                    }
                  });
        };
    if (request.isEnded()) {
      // A short (or empty) body may have arrived whole before anyone listened.
      end.run();
      return;
    }
    request.endHandler(v -> end.run());
    request.resume();
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
