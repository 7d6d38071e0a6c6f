package dev.tsm.upload;

import dev.tsm.csv.Growth;
import dev.tsm.db.Transactions;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;

/**
 * How much of a resumable upload's file can be read, as the database says: any replica may have
 * received the last bytes, so a reader waiting for more asks again every {@link #POLL_NANOS}. It
 * also says how long nothing arrived, for a run to stop waiting and hand its task back.
 */
public final class ResumableGrowth implements Growth {
  static final long POLL_NANOS = 100_000_000L;

  private final Transactions transactions;
  private final UUID uploadId;
  private long plain;
  private boolean complete;
  private String ended;
  private long grewAt = System.nanoTime();

  public ResumableGrowth(Transactions transactions, UUID uploadId) {
    this.transactions = transactions;
    this.uploadId = uploadId;
    refresh();
  }

  @Override
  public synchronized long readable() {
    return plain;
  }

  @Override
  public synchronized boolean complete() {
    return complete;
  }

  /** Nanoseconds since the readable length last grew (or since the run began reading). */
  public synchronized long quietNanos() {
    return System.nanoTime() - grewAt;
  }

  @Override
  public void await(long beyond, long timeoutNanos) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (true) {
      synchronized (this) {
        if (plain > beyond || complete) {
          return;
        }
        if (ended != null) {
          throw new UploadBrokeOffException(
              "the upload " + ended.toLowerCase() + " after " + plain + " bytes");
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      Thread.sleep(Math.max(1, Math.min(left, POLL_NANOS) / 1_000_000));
      refresh();
    }
  }

  private void refresh() {
    transactions.withConnection(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT plain, ended FROM tsm.upload WHERE id = ?")) {
            ps.setObject(1, uploadId);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                seen(rs.getLong(1), rs.getString(2));
              } else {
                seen(plain, "was removed");
              }
            }
          }
          return null;
        });
  }

  private synchronized void seen(long now, String why) {
    if (now > plain) {
      plain = now;
      grewAt = System.nanoTime();
    }
    complete = "COMPLETE".equals(why);
    ended = complete ? null : why;
  }
}
