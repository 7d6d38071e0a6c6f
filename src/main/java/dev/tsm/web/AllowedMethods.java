package dev.tsm.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.smallrye.openapi.runtime.OpenApiConstants;
import io.quarkus.smallrye.openapi.runtime.OpenApiDocumentService;
import io.smallrye.openapi.runtime.io.Format;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The methods a path takes, for the {@code Allow} header of a 405: read from the API description
 * the build generated (so it lists what the resources declare, never a hand-kept copy), with HEAD
 * beside GET and OPTIONS, which the REST layer answers for every path.
 */
@ApplicationScoped
class AllowedMethods {
  private static final Logger LOG = Logger.getLogger(AllowedMethods.class);
  private static final Set<String> METHODS =
      Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
  private static final Pattern PARAMETER = Pattern.compile("\\{[^}]+}");

  private record Route(Pattern path, Set<String> methods) {}

  private final Instance<OpenApiDocumentService> documents;
  private final ObjectMapper json;
  private volatile List<Route> routes;

  AllowedMethods(Instance<OpenApiDocumentService> documents, ObjectMapper json) {
    this.documents = documents;
    this.json = json;
  }

  /** The methods {@code path} takes, sorted; empty when unknown. */
  Set<String> of(String path) {
    Set<String> allowed = new TreeSet<>();
    for (Route route : routes()) {
      if (route.path().matcher(path).matches()) {
        allowed.addAll(route.methods());
      }
    }
    if (allowed.contains("GET")) {
      allowed.add("HEAD");
    }
    if (!allowed.isEmpty()) {
      allowed.add("OPTIONS");
    }
    return allowed;
  }

  private List<Route> routes() {
    List<Route> known = routes;
    if (known == null) {
      known = read();
      routes = known;
    }
    return known;
  }

  private List<Route> read() {
    List<Route> read = new ArrayList<>();
    try {
      byte[] document =
          documents.get().getDocument(OpenApiConstants.DEFAULT_DOCUMENT_NAME, Format.JSON);
      Iterator<java.util.Map.Entry<String, JsonNode>> paths =
          json.readTree(document).path("paths").fields();
      while (paths.hasNext()) {
        var path = paths.next();
        Set<String> methods = new TreeSet<>();
        path.getValue()
            .fieldNames()
            .forEachRemaining(
                name -> {
                  if (METHODS.contains(name)) {
                    methods.add(name.toUpperCase(Locale.ROOT));
                  }
                });
        read.add(new Route(template(path.getKey()), methods));
      }
    } catch (IOException | RuntimeException e) {
      LOG.warnf("the API description cannot be read for Allow headers: %s", e.getMessage());
    }
    return List.copyOf(read);
  }

  /** {@code /tasks/{id}} as a pattern: each parameter one path segment. */
  private static Pattern template(String path) {
    StringBuilder regex = new StringBuilder();
    Matcher parameter = PARAMETER.matcher(path);
    int at = 0;
    while (parameter.find()) {
      regex.append(Pattern.quote(path.substring(at, parameter.start()))).append("[^/]+");
      at = parameter.end();
    }
    regex.append(Pattern.quote(path.substring(at)));
    return Pattern.compile(regex.toString());
  }
}
