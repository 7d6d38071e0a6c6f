package dev.tsm.upload;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.csv.FileStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The disk limits on staged uploads: free space left to everything else on the volume ({@code
 * tsm.storage.min-free-space}) and a quota on the staged import files ({@code
 * tsm.storage.max-staged-bytes}).
 *
 * <p>The quota counts every staged import file in the store, whichever replica wrote it (the folder
 * is shared), plus what this instance has promised to the bodies it is receiving: their declared
 * length, or what arrived so far when that is more. Each instance enforces it on the bodies it
 * receives; two replicas admitting a body at the same moment may pass it by one body each.
 */
@ApplicationScoped
public class StagingSpace {
  private final Path imports;
  private final File volume;
  private final long minFree;
  private final long maxStaged;
  private final Map<UUID, Reservation> receiving = new ConcurrentHashMap<>();
  // Bytes of the staged files not being received here: as of the last listing of the folder, plus
  // the bodies finished since, so that the checks made while a body arrives need no listing. A
  // body that ends while the folder is listed may be missed until the next listing.
  private final AtomicLong onDisk = new AtomicLong();

  public StagingSpace(Config config, FileStore files) {
    this.imports = files.importsFolder();
    this.volume = imports.toFile();
    this.minFree = config.storage().minFreeSpace().asLongValue();
    this.maxStaged = config.storage().maxStagedBytes().asLongValue();
  }

  /**
   * Admits a body of {@code expected} bytes (-1: unknown) for a task's staged file, or refuses it
   * with a 507 that names the limit. Blocking (lists the folder): call on a worker.
   */
  public Reservation reserve(UUID taskId, long expected) {
    long free = freeSpace();
    long listed = listed();
    return admit(taskId, expected, free, listed);
  }

  /** One admission at a time, so that each sees what the one before promised. */
  private synchronized Reservation admit(UUID taskId, long expected, long free, long listed) {
    long promised = Math.max(0, expected);
    onDisk.set(listed);
    long owed = receiving.values().stream().mapToLong(Reservation::outstanding).sum();
    if (free - owed - promised < minFree) {
      throw lowSpace(
          (expected > 0 ? "staging this upload (" + expected + " bytes) would leave " : "only ")
              + Math.max(0, free - owed - promised)
              + " bytes free on the volume");
    }
    long staged = staged();
    if (staged + promised > maxStaged) {
      throw overQuota(staged, expected);
    }
    Reservation reservation = new Reservation(taskId, promised);
    receiving.put(taskId, reservation);
    return reservation;
  }

  /** Every staged byte: files on disk, and what the bodies being received here may still bring. */
  private long staged() {
    return onDisk.get() + receiving.values().stream().mapToLong(r -> r.promised).sum();
  }

  private long freeSpace() {
    try {
      Files.createDirectories(imports);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create " + imports + ": " + e.getMessage(), e);
    }
    return volume.getUsableSpace();
  }

  /** The bytes of the staged files, but those of the bodies this instance is receiving. */
  private long listed() {
    if (!Files.isDirectory(imports)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(imports)) {
      return files.filter(p -> !isReceivedHere(p)).mapToLong(StagingSpace::sizeOrZero).sum();
    } catch (IOException e) {
      throw new UncheckedIOException("could not list " + imports + ": " + e.getMessage(), e);
    }
  }

  /** Whether the file is one of the bodies this instance is receiving (any other name is not). */
  private boolean isReceivedHere(Path file) {
    UUID task = taskOf(file);
    return task != null && receiving.containsKey(task);
  }

  private static UUID taskOf(Path file) {
    String name = file.getFileName().toString();
    try {
      return name.length() < 36 ? null : UUID.fromString(name.substring(0, 36));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static long sizeOrZero(Path file) {
    try {
      return Files.isRegularFile(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      return 0; // deleted meanwhile
    }
  }

  private Refusal lowSpace(String what) {
    return Refusal.noSpace(
        what
            + ", under the "
            + minFree
            + " bytes kept free (tsm.storage.min-free-space); try again once space is freed");
  }

  private Refusal overQuota(long staged, long adding) {
    return Refusal.noSpace(
        "the staged uploads would pass their quota of "
            + maxStaged
            + " bytes (tsm.storage.max-staged-bytes): "
            + staged
            + " bytes are staged or arriving"
            + (adding > 0 ? " and this upload declares " + adding : "")
            + "; try again once imports have completed");
  }

  /** The space promised to one body while it arrives. Called by the one thread that writes it. */
  public final class Reservation {
    private final UUID taskId;
    private volatile long promised;
    private volatile long written;

    private Reservation(UUID taskId, long promised) {
      this.taskId = taskId;
      this.promised = promised;
    }

    /** Bytes promised but not yet on disk, which the free space must still be able to take. */
    private long outstanding() {
      return Math.max(0, promised - written);
    }

    /**
     * {@code total} bytes of the body are on their way to disk. A body that brings more than it
     * promised (one of unknown length) is held to the quota again; the free space is checked each
     * time. Returns the 507 to answer, or null while the body fits.
     */
    public Refusal written(long total) {
      written = total;
      if (total > promised) {
        long before = staged() - promised;
        promised = total;
        if (before + total > maxStaged) {
          return overQuota(before, -1);
        }
      }
      long free = volume.getUsableSpace();
      if (free < minFree) {
        return lowSpace("the volume's free space fell to " + free + " bytes while receiving");
      }
      return null;
    }

    /** The body ended; its file, of {@code size} bytes (0 when deleted), is staged like others. */
    public void release(long size) {
      if (receiving.remove(taskId, this)) {
        onDisk.addAndGet(size);
      }
    }
  }
}
