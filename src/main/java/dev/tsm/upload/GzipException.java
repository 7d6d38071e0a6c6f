package dev.tsm.upload;

import dev.tsm.task.ExplainedFailure;
import java.io.IOException;

/** A gzip stream that cannot be decoded: not gzip at all, corrupt, or cut short. */
public final class GzipException extends IOException implements ExplainedFailure {
  public GzipException(String message) {
    super(message);
  }
}
