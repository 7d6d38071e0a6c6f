package dev.tsm.access;

import java.util.Set;

/**
 * Who asks: the subject of an authenticated request (a token's {@code sub}, a key's name) and its
 * roles. An administrator sees and controls every task and every allowed table.
 */
public record Caller(String subject, Set<String> roles, boolean admin) {
  /** The service acting on its own (retention, an upload that broke off). */
  public static final Caller SERVICE = new Caller("tsm-service", Set.of(), true);

  public Caller {
    if (subject == null || subject.isBlank()) {
      throw new IllegalArgumentException("a caller has a subject");
    }
    roles = Set.copyOf(roles);
  }

  /**
   * Whether a task that belongs to {@code owner} (null: created before owners) is this caller's.
   */
  public boolean owns(String owner) {
    return admin || subject.equals(owner);
  }
}
