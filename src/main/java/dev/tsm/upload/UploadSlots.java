package dev.tsm.upload;

import dev.tsm.Config;
import dev.tsm.Refusal;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bulkhead of uploads: at most {@code tsm.import.max-concurrent-uploads} bodies are received at
 * once by this instance. Beyond it a request is refused at once, before its body is read, so that
 * slow or silent clients cannot take every connection, file and buffer of the service.
 */
@ApplicationScoped
public class UploadSlots {
  /** What a refused client is told to wait before trying again. */
  static final int RETRY_AFTER_SECONDS = 5;

  private final int max;
  private final AtomicInteger used = new AtomicInteger();

  UploadSlots(Config config) {
    this.max = config.importing().maxConcurrentUploads();
  }

  /** Takes a slot, or refuses with a 503 and a Retry-After. Never waits. */
  public Slot take() {
    while (true) {
      int now = used.get();
      if (now >= max) {
        throw Refusal.busy(
            "this instance is already receiving "
                + max
                + " uploads, its limit (tsm.import.max-concurrent-uploads); try again in a few"
                + " seconds",
            RETRY_AFTER_SECONDS);
      }
      if (used.compareAndSet(now, now + 1)) {
        return new Slot();
      }
    }
  }

  /** One body being received; given back once, when the body ended or was refused. */
  public final class Slot {
    private final AtomicBoolean held = new AtomicBoolean(true);

    public void release() {
      if (held.compareAndSet(true, false)) {
        used.decrementAndGet();
      }
    }
  }
}
