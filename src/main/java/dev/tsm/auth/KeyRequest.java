package dev.tsm.auth;

import io.quarkus.security.identity.request.BaseAuthenticationRequest;

/** A caller already recognised by {@link KeyMechanism}: a key's holder or a session's subject. */
public final class KeyRequest extends BaseAuthenticationRequest {
  private final Keys.Holder holder;

  KeyRequest(Keys.Holder holder) {
    this.holder = holder;
  }

  Keys.Holder holder() {
    return holder;
  }
}
