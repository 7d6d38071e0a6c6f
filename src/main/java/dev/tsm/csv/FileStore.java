package dev.tsm.csv;

import dev.tsm.Config;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * The folder of task files, shared by all replicas. File names are made by the server from task
 * ids; no client text ever becomes a path.
 */
@ApplicationScoped
public class FileStore {
  private final Path imports;
  private final Path exports;

  public FileStore(Config config) {
    Path root = Path.of(config.storage().dir()).toAbsolutePath();
    this.imports = root.resolve("imports");
    this.exports = root.resolve("exports");
  }

  /** The folder of staged uploads. */
  public Path importsFolder() {
    return imports;
  }

  public Path importFile(UUID taskId) {
    return imports.resolve(taskId + ".csv");
  }

  /**
   * The bytes of a resumable upload as they were sent, when they are not the CSV file itself (a
   * gzip-compressed file, decompressed into {@link #importFile} as it arrives).
   */
  public Path importUpload(UUID taskId) {
    return imports.resolve(taskId + ".csv.gz");
  }

  /** An export's file while it is written. */
  public Path exportPart(UUID taskId) {
    return exports.resolve(taskId + ".csv.part");
  }

  /**
   * One page of an export, written by its own COPY while the pages before it are still being
   * written; appended to the partial file once they are.
   */
  public Path exportSegment(UUID taskId, long page) {
    return exports.resolve(taskId + ".csv.part." + page);
  }

  /** Whether {@code path} is one of the page files of the export {@code taskId}. */
  public boolean isExportSegment(UUID taskId, Path path) {
    String prefix = taskId + ".csv.part.";
    String name = path.getFileName().toString();
    return path.getParent() != null
        && path.getParent().equals(exports)
        && name.startsWith(prefix)
        && name.length() > prefix.length()
        && name.substring(prefix.length()).chars().allMatch(Character::isDigit);
  }

  /** Deletes the page files a run of the export {@code taskId} left (a pause, a crash). */
  public void deleteExportSegments(UUID taskId) throws IOException {
    if (!Files.isDirectory(exports)) {
      return;
    }
    try (DirectoryStream<Path> found = Files.newDirectoryStream(exports, taskId + ".csv.part.*")) {
      for (Path path : found) {
        if (isExportSegment(taskId, path)) {
          deleteQuietly(path);
        }
      }
    }
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
