package dev.tsm.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident memory of a process, from {@code /proc/<pid>/status}: sampled by a thread of its
 * own, so that the peak is known even if the process dies.
 */
public final class ProcessMemory implements AutoCloseable {
  private final long pid;
  private final Thread sampler;
  private volatile long peakKb;
  private volatile long lastKb;
  private volatile boolean stopped;

  private ProcessMemory(long pid) {
    this.pid = pid;
    this.sampler = new Thread(this::sample, "rss-" + pid);
    sampler.setDaemon(true);
  }

  /** Starts sampling {@code pid} every 100 ms. */
  public static ProcessMemory watch(long pid) {
    ProcessMemory memory = new ProcessMemory(pid);
    memory.sampler.start();
    return memory;
  }

  private void sample() {
    while (!stopped) {
      read();
      try {
        Waits.pause(100); // the sampling interval
      } catch (IllegalStateException interrupted) {
        return; // stop() interrupts the sampler
      }
    }
  }

  /** Reads VmRSS and VmHWM (the kernel's own peak) now; false once the process is gone. */
  private synchronized boolean read() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          peakKb = Math.max(peakKb, kb(line));
        } else if (line.startsWith("VmRSS:")) {
          lastKb = kb(line);
          peakKb = Math.max(peakKb, lastKb);
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static long kb(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  /** The highest resident set size seen, in MiB. */
  public long peakMiB() {
    read();
    return peakKb / 1024;
  }

  /** The resident set size at the last sample, in MiB. */
  public long currentMiB() {
    read();
    return lastKb / 1024;
  }

  @Override
  public void close() {
    read();
    stopped = true;
    sampler.interrupt();
  }
}
