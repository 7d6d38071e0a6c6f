package dev.tsm.upload;

import dev.tsm.Config;
import dev.tsm.Refusal;
import dev.tsm.csv.FileStore;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.ReadStream;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Writes uploads to their tasks' staged files in the store, as the bytes arrive, without a blocking
 * thread; bounded in size and in silence.
 */
@ApplicationScoped
public class Receiver {
  private static final int WRITE_CHUNK = 1 << 20;
  private final FileStore files;
  private final Path imports;
  private final long maxBytes;
  private final Duration idleTimeout;

  Receiver(FileStore files, Config config) {
    this.files = files;
    this.imports = files.importsFolder();
    this.maxBytes = config.importing().maxBodySize().asLongValue();
    this.idleTimeout = config.importing().idleTimeout();
  }

  /**
   * An uploaded file, complete on disk: as it came, or the CSV it decompressed to when it came as
   * gzip. Its size and SHA-256 are of the file on disk.
   */
  public record Staged(Path path, long size, String sha256) {}

  /**
   * Streams an upload to the task's staged file without a blocking thread: chunks are hashed and
   * written as they arrive (a gzip body decompressed first), the body paused while the disk catches
   * up. The returned upload tells readers how much is on disk while it grows; {@code done}
   * completes once the body ended and all of it is on disk. It fails when the body breaks off,
   * passes {@code tsm.import.max-body-size} (received, or decompressed), cannot be decompressed, or
   * passes the disk limits of {@code space}, or the client sends nothing for {@code
   * tsm.import.idle-timeout}. The caller decides what follows a failure: when readers learn of it
   * ({@link Upload#fail}) and when the file goes, since a task reading it may have to stop first.
   */
  public Receiving receive(
      UUID taskId, IncomingBody body, StagingSpace.Reservation space, Context context) {
    Path target = files.importFile(taskId);
    Receiving receiving = new Receiving(target, new Upload());
    Vertx vertx = context.owner();
    Uni<Staged> done =
        Uni.createFrom()
            .<Staged>emitter(
                emitter ->
                    // The file and the request must be used from the request's own context.
                    context.runOnContext(
                        ignored -> {
                          body.bytes().pause();
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
                                      new Writer(body, file, space, receiving, emitter, vertx)
                                          .start());
                        }))
            .onItem()
            .invoke(staged -> space.release(staged.size()))
            .onFailure()
            .invoke(
                e -> {
                  receiving.failure = e;
                  space.release(0);
                })
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
    private volatile boolean compressed;
    private volatile Throwable failure;
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

    /**
     * Whether the body is gzip and the file holds the CSV it decompresses to: known once the first
     * bytes are on disk (or the body ended), false before.
     */
    public boolean compressed() {
      return compressed;
    }

    /** Completes once the whole body is on disk; fails if it broke off or passed a limit. */
    public Uni<Staged> done() {
      return done;
    }

    /** Why the body failed, once it did (null before, or if it did not). */
    public Throwable failure() {
      return failure;
    }

    /**
     * Keeps reading the body to its end but throws it away (the request was refused early, and the
     * client is still sending): {@link #done()} then fails. The size limit and the idle deadline
     * still hold.
     */
    public void discard() {
      discarding = true;
    }
  }

  /**
   * Writes one body: few large writes, and the length of the gap-free prefix on disk. What it
   * writes is the body's {@link StagedForm}: a gzip body is decompressed on its way to disk.
   */
  private final class Writer {
    private final IncomingBody body;
    private final ReadStream<Buffer> source;
    private final AsyncFile file;
    private final StagingSpace.Reservation space;
    private final Receiving receiving;
    private final UniEmitter<? super Staged> emitter;
    private final Vertx vertx;
    private final MessageDigest sha = sha256();
    // Writes complete in any order; the upload advances over those whose predecessors are done.
    private final ArrayDeque<long[]> inFlight = new ArrayDeque<>();
    private Buffer pending = Buffer.buffer(WRITE_CHUNK + (1 << 16));
    private StagedForm form; // known once the first bytes arrived
    private ByteBuffer unstaged; // bytes received but held back while the disk catches up
    private boolean endWaits; // the body ended while bytes were held back
    private long received;
    private long stored;
    private long queued;
    private boolean failed;
    private boolean holding; // paused by this writer while the disk catches up
    private long idleTimer = -1;
    private long lastWrite = System.nanoTime();
    private long lastReceived;
    private long quietSince;

    Writer(
        IncomingBody body,
        AsyncFile file,
        StagingSpace.Reservation space,
        Receiving receiving,
        UniEmitter<? super Staged> emitter,
        Vertx vertx) {
      this.body = body;
      this.source = body.bytes();
      this.file = file;
      this.space = space;
      this.receiving = receiving;
      this.emitter = emitter;
      this.vertx = vertx;
    }

    void start() {
      boolean open;
      try {
        open = body.open();
      } catch (RuntimeException e) {
        fail(e);
        return;
      }
      if (!open) {
        // A short (or empty) body may have arrived whole before anyone listened.
        end();
        return;
      }
      source.handler(this::chunk);
      source.exceptionHandler(
          e ->
              fail(
                  e instanceof Refusal problem
                      ? problem
                      : new UncheckedIOException("the upload broke off: " + e.getMessage(), e(e))));
      source.endHandler(v -> end());
      watchForSilence();
      source.resume();
    }

    /**
     * A client that sends nothing for the idle timeout loses its upload, unless the writer holds
     * the body back itself. Checked a few times per timeout: the 408 comes at most a tick late.
     */
    private void watchForSilence() {
      long tick = Math.max(50, Math.min(1000, idleTimeout.toMillis() / 8));
      long tickNanos = tick * 1_000_000L;
      lastReceived = body.received();
      quietSince = System.nanoTime();
      idleTimer =
          vertx.setPeriodic(
              tick,
              id -> {
                long received = body.received();
                long now = System.nanoTime();
                if (!holding && !failed && pending.length() > 0 && now - lastWrite >= tickNanos) {
                  // A slow client's bytes reach the file, and the import, within a tick or two,
                  // not only once a whole write piece has gathered.
                  if (write() == null) {
                    return;
                  }
                }
                if (holding) {
                  quietSince = now;
                } else if (received != lastReceived) {
                  // Bytes the file part did not show (framing, other fields) came in this tick.
                  quietSince = Math.max(quietSince, now - tick * 1_000_000);
                } else if (now - quietSince >= idleTimeout.toNanos()) {
                  fail(idle(idleTimeout, received));
                }
                lastReceived = received;
              });
    }

    private void chunk(Buffer chunk) {
      if (failed) {
        return;
      }
      quietSince = System.nanoTime();
      received += chunk.length();
      if (received > maxBytes) {
        fail(tooLarge(maxBytes));
        return;
      }
      if (receiving.discarding) {
        return;
      }
      stage(chunk.getByteBuf().nioBuffer());
    }

    /**
     * Stages {@code in} a write at a time: a gzip body can bring a thousand bytes to disk for one
     * received, so what the disk cannot take yet is held back, with the body, until it drains.
     */
    private void stage(ByteBuffer in) {
      do {
        if (!attempt(() -> form().push(in, Math.max(1, WRITE_CHUNK - pending.length())))) {
          return;
        }
        if (pending.length() >= WRITE_CHUNK && write() == null) {
          return;
        }
        if (file.writeQueueFull()) {
          hold(in);
          return;
        }
      } while (in.hasRemaining());
    }

    private void hold(ByteBuffer rest) {
      holding = true;
      source.pause();
      if (rest.hasRemaining()) {
        // The chunk's memory may be reused once its handler returned: keep a copy.
        unstaged = ByteBuffer.allocate(rest.remaining()).put(rest).flip();
      }
      file.drainHandler(
          v -> {
            holding = false;
            ByteBuffer held = unstaged;
            unstaged = null;
            if (held != null) {
              stage(held);
            }
            if (failed || holding) {
              return;
            }
            if (endWaits) {
              end();
            } else {
              source.resume();
            }
          });
    }

    private StagedForm form() {
      if (form == null) {
        form = new StagedForm(body.declaresGzip(), this::store);
      }
      return form;
    }

    /** The sink of the staged form: bytes for the file, hashed and bounded as they go. */
    private void store(ByteBuffer bytes) {
      receiving.compressed = form.compressed();
      stored += bytes.remaining();
      if (stored > maxBytes) {
        throw decompressedTooLarge(maxBytes, received); // only a gzip body stores more than it sent
      }
      if (bytes.hasArray()) {
        pending.appendBytes(
            bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
      } else {
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        pending.appendBytes(copy);
      }
      sha.update(bytes);
    }

    /**
     * Runs a step of the staged form; false, having failed the upload, when the body cannot be
     * decompressed or stores more than the size limit.
     */
    private boolean attempt(FormStep step) {
      try {
        step.run();
        return true;
      } catch (GzipException e) {
        fail(undecodable(e));
      } catch (Refusal e) {
        fail(e);
      } catch (IOException e) {
        fail(new UncheckedIOException(e));
      }
      return false;
    }

    /**
     * Each AsyncFile write is a task of its own: write in large pieces. Returns null, having failed
     * the upload, when the disk limits refuse the piece.
     */
    private Future<Void> write() {
      Refusal refused = space.written(queued + pending.length());
      if (refused != null) {
        fail(refused);
        return null;
      }
      long[] piece = {queued + pending.length(), 0};
      queued = piece[0];
      inFlight.add(piece);
      lastWrite = System.nanoTime();
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
        fail(REFUSED);
        return;
      }
      if (unstaged != null) {
        endWaits = true; // ended once the bytes held back are staged
        return;
      }
      if (!attempt(() -> form().end())) {
        return;
      }
      Future<Void> last = write();
      if (last == null) {
        return;
      }
      stop(); // the body is whole: a late connection error changes nothing
      last.compose(written -> file.close())
          .onFailure(emitter::fail)
          .onSuccess(
              closed -> {
                // Every byte is on disk: readers (the sample of a body still arriving, whatever
                // its row count) may take the end of the file for the end of the data.
                receiving.upload.finish();
                emitter.complete(
                    new Staged(receiving.path, stored, HexFormat.of().formatHex(sha.digest())));
              });
    }

    /** Stops writing and watching; what the client still sends is left to whoever answers it. */
    private void fail(RuntimeException e) {
      if (failed) {
        return;
      }
      stop();
      file.close();
      emitter.fail(e);
    }

    private void stop() {
      failed = true;
      unstaged = null;
      if (form != null) {
        form.close();
      }
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
      }
    }

    private static IOException e(Throwable t) {
      return t instanceof IOException io ? io : new IOException(t);
    }
  }

  /** A step of a body's staged form. */
  @FunctionalInterface
  private interface FormStep {
    void run() throws IOException;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** 408: the client stopped sending its body. */
  private static Refusal idle(Duration timeout, long received) {
    return Refusal.timedOut(
        "the client sent nothing for "
            + timeout.toMillis() / 1000.0
            + " s (tsm.import.idle-timeout) after "
            + received
            + " bytes of the body: the upload is abandoned and nothing of it is kept");
  }

  /** 413: a gzip body that decompresses to more than the limit (a gzip bomb, say). */
  private static Refusal decompressedTooLarge(long maxBytes, long received) {
    return Refusal.tooLarge(
        "the decompressed upload passed the limit of "
            + maxBytes
            + " bytes (tsm.import.max-body-size) after "
            + received
            + " bytes of gzip were received: nothing of it is kept");
  }

  /** 400: a gzip body that cannot be decompressed. */
  private static Refusal undecodable(GzipException e) {
    return Refusal.invalid(
        "the gzip-compressed upload cannot be decompressed: "
            + e.getMessage()
            + "; nothing of it is kept");
  }

  public static Refusal tooLarge(long maxBytes) {
    return Refusal.tooLarge(
        "the upload is larger than the limit of " + maxBytes + " bytes (tsm.import.max-body-size)");
  }
}
