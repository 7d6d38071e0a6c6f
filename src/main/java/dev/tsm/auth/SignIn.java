package dev.tsm.auth;

import dev.tsm.Refusal;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.vertx.core.http.HttpServerRequest;
import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The page's sign-in: a link with a key (the one printed at start, or any API key) or the
 * provider's code flow ({@code /signin/oidc}, a web-app tenant) opens a session cookie and goes to
 * the page. The key leaves the address bar at once (303), and no page sends it on as a referrer.
 */
@Path("/signin")
@Tag(name = "Sign-in", description = "Sessions of the service's own page")
public class SignIn {
  private final Keys keys;
  private final Sessions sessions;

  /** Served over TLS, maybe ended by a proxy in front: then the request itself says http. */
  private final boolean publicHttps;

  SignIn(Keys keys, Sessions sessions, dev.tsm.Config config) {
    this.keys = keys;
    this.sessions = sessions;
    this.publicHttps =
        config.security().publicUrl().map(url -> url.trim().startsWith("https:")).orElse(false);
  }

  @GET
  @PermitAll
  @Operation(
      operationId = "signIn",
      summary = "Open a page session with a key (the link printed at start)")
  @APIResponse(responseCode = "303", description = "Signed in: to the page, with the cookie")
  @APIResponse(responseCode = "401", description = "No key, or not one this service knows")
  @APIResponse(responseCode = "403", description = "Followed from another site")
  public Response withKey(
      @Parameter(description = "An API key") @QueryParam("key") String key,
      @Context HttpServerRequest request) {
    if ("cross-site".equals(request.getHeader("Sec-Fetch-Site"))) {
      // Another site's link would sign the browser in as whoever's key it carries.
      throw Refusal.forbidden("sign-in links are followed from a terminal or this service only");
    }
    Keys.Holder holder = key == null ? null : keys.holder(key).orElse(null);
    if (holder == null) {
      throw new io.quarkus.security.AuthenticationFailedException(
          "sign in with the link the service printed at start, or with an API key");
    }
    return toPage(holder.subject(), holder.roles(), request);
  }

  @GET
  @Path("/oidc")
  @Authenticated
  @Operation(
      operationId = "signInWithProvider",
      summary = "Open a page session after the provider's sign-in (code flow)")
  @APIResponse(responseCode = "303", description = "Signed in: to the page, with the cookie")
  @APIResponse(responseCode = "401", description = "No provider is configured")
  public Response withProvider(
      @Context SecurityIdentity identity, @Context HttpServerRequest request) {
    return toPage(identity.getPrincipal().getName(), identity.getRoles(), request);
  }

  @POST
  @Path("/out")
  @PermitAll
  @Operation(operationId = "signOut", summary = "End the page session")
  @APIResponse(responseCode = "204", description = "The session cookie is cleared")
  @APIResponse(responseCode = "403", description = "Sent from another site")
  public Response out(@Context HttpServerRequest request) {
    return Response.noContent().cookie(cookie("", 0, request)).build();
  }

  private Response toPage(String subject, java.util.Set<String> roles, HttpServerRequest request) {
    if (subject == null || subject.isBlank()) {
      throw Refusal.invalid("the identity has no subject");
    }
    String value = sessions.open(subject, roles);
    return Response.seeOther(URI.create("/"))
        .cookie(cookie(value, (int) sessions.lifetime().toSeconds(), request))
        .header("Cache-Control", "no-store")
        .build();
  }

  private NewCookie cookie(String value, int maxAge, HttpServerRequest request) {
    return new NewCookie.Builder(Sessions.COOKIE)
        .value(value)
        .path("/")
        .maxAge(maxAge)
        .httpOnly(true)
        .secure(publicHttps || "https".equals(request.scheme()))
        .sameSite(NewCookie.SameSite.STRICT)
        .build();
  }
}
