package dev.tsm;

/**
 * A client error that becomes an RFC 9457 problem: HTTP status, a short title, and a detail that
 * says what is wrong in the client's terms.
 */
public class ProblemException extends RuntimeException {
  private final int status;
  private final String title;
  private final int retryAfterSeconds;

  public ProblemException(int status, String title, String detail) {
    this(status, title, detail, 0);
  }

  private ProblemException(int status, String title, String detail, int retryAfterSeconds) {
    super(detail);
    this.status = status;
    this.title = title;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static ProblemException badRequest(String detail) {
    return new ProblemException(400, "Bad request", detail);
  }

  public static ProblemException notFound(String detail) {
    return new ProblemException(404, "Not found", detail);
  }

  public static ProblemException conflict(String detail) {
    return new ProblemException(409, "Conflict", detail);
  }

  /** 503: a limit of this instance is reached; the answer says when to try again. */
  public static ProblemException unavailable(String detail, int retryAfterSeconds) {
    return new ProblemException(503, "Service Unavailable", detail, retryAfterSeconds);
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  /** Seconds for a Retry-After header, or 0 for none. */
  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
