package dev.tsm.csv;

import java.util.Arrays;

/** A growable byte array: the bytes of one batch or sample. */
public final class ByteBuf {
  private byte[] bytes;
  private int length;

  public ByteBuf(int initialCapacity) {
    this(new byte[Math.max(16, initialCapacity)]);
  }

  /** Starts empty over {@code bytes}, which it replaces if it must grow. */
  public ByteBuf(byte[] bytes) {
    this.bytes = bytes;
  }

  public void append(byte[] src, int offset, int count) {
    ensure(length + count);
    System.arraycopy(src, offset, bytes, length, count);
    length += count;
  }

  public void truncate(int newLength) {
    length = newLength;
  }

  public int length() {
    return length;
  }

  public byte[] array() {
    return bytes;
  }

  private void ensure(int capacity) {
    if (capacity > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(capacity, bytes.length * 2));
    }
  }
}
