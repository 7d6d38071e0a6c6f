package dev.tsm.auth;

import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/** The identity of a caller {@link KeyMechanism} recognised: its subject and roles. */
@ApplicationScoped
public class KeyIdentities implements IdentityProvider<KeyRequest> {
  @Override
  public Class<KeyRequest> getRequestType() {
    return KeyRequest.class;
  }

  @Override
  public Uni<SecurityIdentity> authenticate(
      KeyRequest request, AuthenticationRequestContext context) {
    return Uni.createFrom()
        .item(
            QuarkusSecurityIdentity.builder()
                .setPrincipal(new QuarkusPrincipal(request.holder().subject()))
                .addRoles(request.holder().roles())
                .build());
  }
}
