package dev.tsm.web;

import dev.tsm.Config;
import dev.tsm.access.Caller;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

/**
 * The caller of the request being served, as the services know it: the authenticated identity's
 * name (a token's subject, a key's name) and roles. Every endpoint that reaches a task or a table
 * is authenticated first, so an identity is always there when this is asked.
 */
@ApplicationScoped
public class Callers {
  private final Instance<SecurityIdentity> identity;
  private final String adminRole;

  Callers(Instance<SecurityIdentity> identity, Config config) {
    this.identity = identity;
    this.adminRole = config.security().adminRole();
  }

  public Caller current() {
    SecurityIdentity id = identity.get();
    if (id.isAnonymous()) {
      // Unreachable through an endpoint (each requires a caller); a safe answer if one is missed.
      throw new io.quarkus.security.UnauthorizedException();
    }
    return new Caller(id.getPrincipal().getName(), id.getRoles(), id.hasRole(adminRole));
  }
}
