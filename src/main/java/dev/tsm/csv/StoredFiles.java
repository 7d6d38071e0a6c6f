package dev.tsm.csv;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The task files in the store, for the retention sweep: only files named as {@link FileStore} names
 * them are ever reported, so nothing else in the folder is touched.
 */
@ApplicationScoped
public class StoredFiles {
  private final FileStore files;

  StoredFiles(FileStore files) {
    this.files = files;
  }

  /** What a task file is for. */
  public enum Kind {
    /** A staged upload. */
    IMPORT,
    /** An export being written. */
    EXPORT_PART,
    /** A finished export. */
    EXPORT
  }

  /** A task file and when it was last written. */
  public record TaskFile(Path path, UUID taskId, Kind kind, Instant modified) {}

  /**
   * Hands the task files last written before {@code before} to {@code chunk}, at most {@code size}
   * at a time, so a folder of any size is swept in bounded memory.
   */
  public void olderThan(Instant before, int size, Consumer<List<TaskFile>> chunk)
      throws IOException {
    List<TaskFile> found = new ArrayList<>(size);
    UUID any = new UUID(0, 0);
    for (Path folder :
        List.of(files.importFile(any).getParent(), files.exportFile(any).getParent())) {
      if (!Files.isDirectory(folder)) {
        continue;
      }
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
        for (Path path : entries) {
          TaskFile file = taskFile(path);
          if (file == null || !file.modified().isBefore(before)) {
            continue;
          }
          found.add(file);
          if (found.size() == size) {
            chunk.accept(List.copyOf(found));
            found.clear();
          }
        }
      }
    }
    if (!found.isEmpty()) {
      chunk.accept(List.copyOf(found));
    }
  }

  /** Deletes a task file; false if it was gone already. */
  public boolean delete(TaskFile file) throws IOException {
    return Files.deleteIfExists(file.path());
  }

  /** The task file at {@code path}, or null for anything not named after a task. */
  private TaskFile taskFile(Path path) throws IOException {
    String name = path.getFileName().toString();
    int dot = name.indexOf('.');
    if (dot != 36) {
      return null;
    }
    UUID id;
    try {
      id = UUID.fromString(name.substring(0, dot));
    } catch (IllegalArgumentException e) {
      return null;
    }
    Kind kind;
    if (path.equals(files.importFile(id)) || path.equals(files.importUpload(id))) {
      kind = Kind.IMPORT;
    } else if (path.equals(files.exportPart(id)) || files.isExportSegment(id, path)) {
      kind = Kind.EXPORT_PART;
    } else if (path.equals(files.exportFile(id))) {
      kind = Kind.EXPORT;
    } else {
      return null;
    }
    try {
      return new TaskFile(path, id, kind, Files.getLastModifiedTime(path).toInstant());
    } catch (NoSuchFileException e) {
      return null; // deleted meanwhile
    }
  }
}
