package dev.tsm;

/**
 * A client error that becomes an RFC 9457 problem: HTTP status, a short title, and a detail that
 * says what is wrong in the client's terms.
 */
public class ProblemException extends RuntimeException {
  private final int status;
  private final String title;

  public ProblemException(int status, String title, String detail) {
    super(detail);
    this.status = status;
    this.title = title;
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

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }
}
