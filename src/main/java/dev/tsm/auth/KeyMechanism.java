package dev.tsm.auth;

import dev.tsm.Config;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.Cookie;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.Set;

/**
 * Authenticates what the service issues itself: {@code Authorization: Bearer tsm_...} (an API key)
 * and the page's session cookie. Any other bearer token is left to the OpenID Connect mechanism
 * (tried after this one); a {@code tsm_} key that is not known fails at once.
 */
@ApplicationScoped
public class KeyMechanism implements HttpAuthenticationMechanism {
  private static final String BEARER = "bearer ";

  private final Keys keys;
  private final Sessions sessions;
  private final boolean open;
  private final String adminRole;

  KeyMechanism(Keys keys, Sessions sessions, Config config) {
    this.keys = keys;
    this.sessions = sessions;
    this.open = config.security().open();
    this.adminRole = config.security().adminRole();
  }

  @Override
  public Uni<SecurityIdentity> authenticate(
      RoutingContext context, IdentityProviderManager identities) {
    String authorization = context.request().getHeader(HttpHeaderNames.AUTHORIZATION);
    if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      String token = authorization.substring(BEARER.length()).trim();
      if (!token.startsWith(Keys.PREFIX)) {
        return Uni.createFrom().optional(Optional.empty()); // an OpenID Connect token
      }
      return keys.holder(token)
          .map(holder -> identities.authenticate(new KeyRequest(holder)))
          .orElseGet(
              () -> Uni.createFrom().failure(new AuthenticationFailedException("unknown API key")));
    }
    Cookie cookie = context.request().getCookie(Sessions.COOKIE);
    if (cookie != null) {
      Optional<Sessions.Session> session = sessions.read(cookie.getValue());
      if (session.isPresent()) {
        return identities.authenticate(
            new KeyRequest(new Keys.Holder(session.get().subject(), session.get().roles())));
      }
    }
    if (open) {
      return identities.authenticate(
          new KeyRequest(new Keys.Holder("anonymous", Set.of(adminRole))));
    }
    return Uni.createFrom().optional(Optional.empty());
  }

  @Override
  public Uni<ChallengeData> getChallenge(RoutingContext context) {
    return Uni.createFrom()
        .item(
            new ChallengeData(
                HttpResponseStatus.UNAUTHORIZED.code(),
                HttpHeaderNames.WWW_AUTHENTICATE,
                "Bearer realm=\"tsm\""));
  }

  @Override
  public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
    return Set.of(KeyRequest.class);
  }

  @Override
  public int getPriority() {
    return DEFAULT_PRIORITY + 100; // before OpenID Connect, which claims every bearer token
  }
}
