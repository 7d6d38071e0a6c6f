package dev.tsm.web;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.regex.Pattern;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * A file (an export's, an import's rejects) is answered whatever Accept the client sends: its type
 * is in Content-Type. Generated clients often accept only their error type (problem+json) or JSON,
 * and a 406 in place of the file helps nobody; errors on these paths are problems anyway.
 */
public class AnyAcceptForFiles {
  private static final Pattern FILES = Pattern.compile("/tasks/[^/]+/(file|rejects)/?");

  @ServerRequestFilter(preMatching = true)
  public void acceptAnything(ContainerRequestContext request) {
    String method = request.getMethod();
    if (("GET".equals(method) || "HEAD".equals(method))
        && FILES.matcher(request.getUriInfo().getPath()).matches()) {
      request.getHeaders().putSingle(HttpHeaders.ACCEPT, "*/*");
    }
  }
}
