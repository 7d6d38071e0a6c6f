/**
 * Who is calling: API keys (configured, or the one generated at start for the embedded default),
 * the page's signed session cookie, the sign-in link, and the refusal of cross-site requests.
 * OpenID Connect tokens are verified by quarkus-oidc beside these.
 */
package dev.tsm.auth;
