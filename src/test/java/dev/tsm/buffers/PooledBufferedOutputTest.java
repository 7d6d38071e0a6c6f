package dev.tsm.buffers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The stream writes what it is given, in order, whatever the sizes; its buffer goes back once. */
class PooledBufferedOutputTest {
  private static final int SIZE = 64;

  @Test
  void writesOfEverySizeAroundTheBufferArriveInOrder() throws IOException {
    for (long seed = 0; seed < 200; seed++) {
      Random random = new Random(seed);
      ArrayPool pool = new ArrayPool(SIZE, 2);
      ByteArrayOutputStream expected = new ByteArrayOutputStream();
      ByteArrayOutputStream sink = new ByteArrayOutputStream();
      try (PooledBufferedOutput out = new PooledBufferedOutput(sink, pool)) {
        for (int i = 0; i < 50; i++) {
          // 0 to 2.5 buffers, the buffer's own size and its neighbours often
          int len =
              random.nextInt(4) == 0
                  ? SIZE - 1 + random.nextInt(3)
                  : random.nextInt(SIZE * 5 / 2 + 1);
          byte[] chunk = new byte[len + 4];
          random.nextBytes(chunk);
          if (len == 1 && random.nextBoolean()) {
            out.write(chunk[2]);
          } else {
            out.write(chunk, 2, len);
          }
          expected.write(chunk, 2, len);
          if (random.nextInt(10) == 0) {
            out.flush();
            assertArrayEquals(expected.toByteArray(), sink.toByteArray(), "seed " + seed);
          }
        }
      }
      assertArrayEquals(expected.toByteArray(), sink.toByteArray(), "seed " + seed);
    }
  }

  @Test
  void theBufferGoesBackOnceEvenWhenTheLastFlushFails() throws IOException {
    ArrayPool pool = new ArrayPool(SIZE, 4);
    byte[] first = pool.take();
    pool.give(first);
    OutputStream failing =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("disk full");
          }
        };
    PooledBufferedOutput out = new PooledBufferedOutput(failing, pool);
    out.write(new byte[] {1, 2, 3}, 0, 3);
    assertThrows(IOException.class, out::close);
    out.close(); // a second close does not give it back again
    assertSame(first, pool.take(), "handed back");
    assertNotSame(first, pool.take(), "handed back once");
  }

  @Test
  void thePoolKeepsOnlyArraysOfItsSizeAndAtMostItsCapacity() {
    ArrayPool pool = new ArrayPool(SIZE, 1);
    pool.give(new byte[SIZE + 1]);
    assertTrue(pool.take().length == SIZE);
    byte[] a = new byte[SIZE];
    pool.give(a);
    pool.give(new byte[SIZE]);
    assertSame(a, pool.take());
    assertNotSame(a, pool.take());
  }
}
