package dev.tsm.task;

/**
 * A job read all the input there is and more is still to come (a resumable upload whose client went
 * quiet): the run ends and hands the task back, and no runner takes it again until input beyond
 * {@code readable} has arrived. Waiting thus holds no thread, connection or buffer.
 */
public class WaitingForInput extends RuntimeException {
  private final long readable;

  public WaitingForInput(long readable) {
    super("waiting for more of the upload after " + readable + " bytes", null, false, false);
    this.readable = readable;
  }

  public long readable() {
    return readable;
  }
}
