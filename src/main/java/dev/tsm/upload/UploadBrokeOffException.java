package dev.tsm.upload;

import dev.tsm.task.ExplainedFailure;
import java.io.IOException;

/** A file that was still arriving will never be complete: its upload broke off. */
public final class UploadBrokeOffException extends IOException implements ExplainedFailure {
  public UploadBrokeOffException(String message) {
    super(message);
  }
}
