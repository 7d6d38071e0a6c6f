package dev.tsm.auth;

import io.quarkus.security.identity.request.BaseAuthenticationRequest;

/** A caller already recognised by {@link KeyMechanism}: a key's holder or a session's subject. */
public final class KeyRequest extends BaseAuthenticationRequest {
  /** Set on the request when its caller came with the session cookie (see {@link SameOrigin}). */
  static final String VIA_COOKIE = "tsm.via-cookie";

  private final Keys.Holder holder;
  private final String via;

  private KeyRequest(Keys.Holder holder, String via) {
    this.holder = holder;
    this.via = via;
  }

  static KeyRequest of(Keys.Holder holder, String via) {
    return new KeyRequest(holder, via);
  }

  Keys.Holder holder() {
    return holder;
  }

  /** How the caller came: key, session or open. */
  String via() {
    return via;
  }
}
