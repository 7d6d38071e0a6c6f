package dev.tsm;

/**
 * A request the service refuses, and why, in the client's terms. It says nothing of HTTP: the web
 * layer turns the {@link Reason} into a status and the whole into an RFC 9457 problem.
 */
public class Refusal extends RuntimeException {
  /** Why a request is refused; each reason is one answer a client can act on. */
  public enum Reason {
    /** The request itself is wrong: a parameter, a body, a header of the file. */
    INVALID,
    /** What it names does not exist (or is not the caller's to see). */
    NOT_FOUND,
    /** It does not fit the current state of what it names. */
    CONFLICT,
    /** What it names existed and is gone for good. */
    GONE,
    /** Its body is over a limit. */
    TOO_LARGE,
    /** The client stopped sending. */
    TIMED_OUT,
    /** A limit of this instance is reached for now; retry after {@link #retryAfterSeconds()}. */
    BUSY,
    /** The storage is full or over its quota. */
    NO_SPACE,
    /** The caller is known but lacks a right the request needs; the detail names it. */
    FORBIDDEN,
    /** The caller has as many tasks going as it may; retry after {@link #retryAfterSeconds()}. */
    TOO_MANY,
    /** Another request is writing to what it names right now; retry once it is done. */
    LOCKED,
    /** Its body does not match the checksum it came with: nothing of it was kept. */
    CHECKSUM_MISMATCH,
    /** It speaks a version of a protocol the service does not. */
    UNSUPPORTED_VERSION,
    /** It is well-formed but cannot be taken as it is: an idempotency key of another request. */
    UNPROCESSABLE
  }

  private final Reason reason;
  private final int retryAfterSeconds;

  public Refusal(Reason reason, String detail) {
    this(reason, detail, 0);
  }

  private Refusal(Reason reason, String detail, int retryAfterSeconds) {
    super(detail);
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static Refusal invalid(String detail) {
    return new Refusal(Reason.INVALID, detail);
  }

  public static Refusal notFound(String detail) {
    return new Refusal(Reason.NOT_FOUND, detail);
  }

  public static Refusal conflict(String detail) {
    return new Refusal(Reason.CONFLICT, detail);
  }

  public static Refusal gone(String detail) {
    return new Refusal(Reason.GONE, detail);
  }

  public static Refusal tooLarge(String detail) {
    return new Refusal(Reason.TOO_LARGE, detail);
  }

  public static Refusal timedOut(String detail) {
    return new Refusal(Reason.TIMED_OUT, detail);
  }

  public static Refusal busy(String detail, int retryAfterSeconds) {
    return new Refusal(Reason.BUSY, detail, retryAfterSeconds);
  }

  public static Refusal forbidden(String detail) {
    return new Refusal(Reason.FORBIDDEN, detail);
  }

  public static Refusal tooMany(String detail, int retryAfterSeconds) {
    return new Refusal(Reason.TOO_MANY, detail, retryAfterSeconds);
  }

  public static Refusal locked(String detail) {
    return new Refusal(Reason.LOCKED, detail);
  }

  public static Refusal checksumMismatch(String detail) {
    return new Refusal(Reason.CHECKSUM_MISMATCH, detail);
  }

  public static Refusal unsupportedVersion(String detail) {
    return new Refusal(Reason.UNSUPPORTED_VERSION, detail);
  }

  public static Refusal unprocessable(String detail) {
    return new Refusal(Reason.UNPROCESSABLE, detail);
  }

  public static Refusal noSpace(String detail) {
    return new Refusal(Reason.NO_SPACE, detail);
  }

  public Reason reason() {
    return reason;
  }

  /** Seconds after which a BUSY or TOO_MANY request may succeed, or 0. */
  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
