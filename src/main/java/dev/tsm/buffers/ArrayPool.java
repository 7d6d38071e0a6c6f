package dev.tsm.buffers;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Byte arrays of one size, handed back once nothing reads them and reused, for one run of a task.
 * An array that lives through a young collection (an import's batch of megabytes, read and then
 * copied; an export page's write buffer) is promoted; a new one each time filled the old generation
 * with them. With the heap the manifests set, that was a full collection every half second of an
 * import and the whole heap resident. Kept arrays are promoted once and stay. Bounded: arrays
 * beyond {@code capacity}, or of another size (a batch grown by an oversized record), are left to
 * the collector.
 */
public final class ArrayPool {
  private final int size;
  private final ArrayBlockingQueue<byte[]> free;

  public ArrayPool(int size, int capacity) {
    this.size = size;
    this.free = new ArrayBlockingQueue<>(capacity);
  }

  /** An array of this pool's size: a kept one if any, else a new one. */
  public byte[] take() {
    byte[] kept = free.poll();
    return kept != null ? kept : new byte[size];
  }

  /** Hands an array back, once nothing reads or writes it any more. */
  public void give(byte[] array) {
    if (array.length == size) {
      free.offer(array);
    }
  }
}
