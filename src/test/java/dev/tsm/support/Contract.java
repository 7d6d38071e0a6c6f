package dev.tsm.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialects;
import io.restassured.RestAssured;
import io.restassured.filter.FilterContext;
import io.restassured.filter.OrderedFilter;
import io.restassured.response.Response;
import io.restassured.specification.FilterableRequestSpecification;
import io.restassured.specification.FilterableResponseSpecification;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The API's contract, kept: every answer a test receives through rest-assured is checked against
 * docs/openapi.yaml (the status is one the operation declares, the content type one it declares for
 * that status, a JSON body valid against its schema, required headers present), and a test fails on
 * the first answer that is not. Installed for every request ({@link #install}, from {@code
 * ContractCallback} before each test and from {@link Auth}), so no test can forget it.
 *
 * <p>Paths the document does not describe (the page's files, Quarkus's /q/*) are not checked,
 * except that an error there must still be a problem. There is no opt-out: a test that means to get
 * an answer outside the document (the HTTP layer's, to a malformed request) speaks raw HTTP ({@link
 * RawResponse}, {@link HttpUpload}) and checks that answer itself.
 */
public final class Contract implements OrderedFilter {
  private static final String BASE = "https://tsm.test/openapi";
  private static final Contract INSTANCE = new Contract(new File("docs/openapi.yaml"));
  private static final List<String> METHODS =
      List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  private final JsonNode doc;
  private final SchemaRegistry registry;
  private final List<PathTemplate> paths = new ArrayList<>();
  private final Map<JsonNode, Schema> schemas = new ConcurrentHashMap<>();
  private final ObjectMapper json = new ObjectMapper();
  private final java.util.concurrent.atomic.AtomicLong checked =
      new java.util.concurrent.atomic.AtomicLong();

  Contract(File document) {
    try {
      this.doc = new ObjectMapper(new YAMLFactory()).readTree(document);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.registry =
        SchemaRegistry.withDialect(
            Dialects.getOpenApi31(),
            b ->
                b.schemas(Map.of(BASE, doc.toString()))
                    .schemaRegistryConfig(
                        SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));
    doc.path("paths").fieldNames().forEachRemaining(p -> paths.add(new PathTemplate(p)));
    // A literal segment wins over a template: /tasks/events before /tasks/{id}.
    paths.sort(Comparator.comparingInt(PathTemplate::templated).thenComparing(t -> t.path));
  }

  /** The contract of docs/openapi.yaml. */
  public static Contract get() {
    return INSTANCE;
  }

  /** The contract of another document (to prove a wrong answer fails). */
  public static Contract of(File document) {
    return new Contract(document);
  }

  /** Puts the contract in front of every rest-assured request, once. */
  public static synchronized void install() {
    if (RestAssured.filters().stream().noneMatch(f -> f instanceof Contract)) {
      RestAssured.filters(INSTANCE);
    }
  }

  /** How many answers this contract has checked. */
  public long checked() {
    return checked.get();
  }

  /** Whether the contract is in front of every rest-assured request. */
  public static boolean installed() {
    return RestAssured.filters().stream().anyMatch(f -> f instanceof Contract);
  }

  @Override
  public int getOrder() {
    // Outermost but one: the answer is checked as the test sees it.
    return OrderedFilter.HIGHEST_PRECEDENCE + 1;
  }

  @Override
  public Response filter(
      FilterableRequestSpecification request,
      FilterableResponseSpecification response,
      FilterContext ctx) {
    Response answer = ctx.next(request, response);
    checked.incrementAndGet();
    List<String> wrong =
        check(request.getMethod(), URI.create(request.getURI()).getRawPath(), answer);
    if (!wrong.isEmpty()) {
      throw new AssertionError(
          request.getMethod()
              + " "
              + request.getURI()
              + " answered "
              + answer.statusCode()
              + " outside docs/openapi.yaml:\n  "
              + String.join("\n  ", wrong)
              + "\nbody: "
              + abbreviated(answer));
    }
    return answer;
  }

  /** What is wrong with {@code answer} to {@code method path} by the document; empty if nothing. */
  public List<String> check(String method, String path, Response answer) {
    List<String> wrong = new ArrayList<>();
    String m = method.toLowerCase(Locale.ROOT);
    PathTemplate template = paths.stream().filter(t -> t.matches(path)).findFirst().orElse(null);
    int status = answer.statusCode();
    String type = mediaType(answer.contentType());
    if (template == null) {
      if (status >= 400 && !path.startsWith("/q/")) {
        checkProblem(answer, type, wrong);
      } else if (status < 400 && !outsideApi(path)) {
        wrong.add("no path of the document matches " + path);
      }
      return wrong;
    }
    JsonNode item = doc.path("paths").path(template.path);
    JsonNode operation = item.get(m);
    if (operation == null && "head".equals(m)) {
      operation = item.get("get");
    }
    if (operation == null) {
      // A method the path does not have: 405 with the methods it has.
      if (status != 405) {
        wrong.add(method + " is not an operation of " + template.path + ", yet not 405");
      }
      if (answer.header("Allow") == null) {
        wrong.add("405 without Allow");
      }
      checkProblem(answer, type, wrong);
      return wrong;
    }
    JsonNode responses = operation.path("responses");
    JsonNode declared = responses.get(String.valueOf(status));
    if (declared == null) {
      declared = responses.get(status / 100 + "XX");
    }
    if (declared == null) {
      declared = responses.get("default");
    }
    if (declared == null) {
      wrong.add(
          "status "
              + status
              + " is not declared by "
              + operation.path("operationId").asText()
              + " (declared: "
              + iterable(responses.fieldNames())
              + ")");
      return wrong;
    }
    declared = resolve(declared);
    for (Iterator<Map.Entry<String, JsonNode>> h = declared.path("headers").fields();
        h.hasNext(); ) {
      Map.Entry<String, JsonNode> header = h.next();
      if (resolve(header.getValue()).path("required").asBoolean(false)
          && answer.header(header.getKey()) == null) {
        wrong.add("required header " + header.getKey() + " is missing");
      }
    }
    JsonNode content = declared.path("content");
    boolean hasBody = type != null || !"head".equals(m) && bodyLength(answer) > 0;
    if (!hasBody) {
      return wrong;
    }
    if (content.isMissingNode() || content.isEmpty()) {
      wrong.add("a body (" + type + ") where the document declares none");
      return wrong;
    }
    JsonNode media = mediaFor(content, type);
    if (media == null) {
      wrong.add(
          "content type "
              + type
              + " is not declared (declared: "
              + iterable(content.fieldNames())
              + ")");
      return wrong;
    }
    if ("head".equals(m) || !isJson(type) || media.get("schema") == null) {
      return wrong;
    }
    validate(media.get("schema"), answer, wrong);
    return wrong;
  }

  /**
   * What is wrong with the document itself: an example its schema refuses (components, parameters,
   * JSON bodies), a reference with siblings, a schema named after a Java framework class.
   */
  public List<String> documentProblems() {
    List<String> wrong = new ArrayList<>();
    doc.path("components")
        .path("schemas")
        .fields()
        .forEachRemaining(
            e -> {
              if (FRAMEWORK_TYPES.contains(e.getKey())) {
                wrong.add("schema " + e.getKey() + " is a framework type");
              }
              e.getValue()
                  .path("examples")
                  .forEach(
                      example ->
                          exampleAgainst(
                              e.getValue(), example, "schema " + e.getKey() + " example", wrong));
            });
    doc.path("paths")
        .fields()
        .forEachRemaining(
            p ->
                p.getValue()
                    .fields()
                    .forEachRemaining(
                        o -> {
                          String where = o.getKey().toUpperCase(Locale.ROOT) + " " + p.getKey();
                          o.getValue()
                              .path("parameters")
                              .forEach(
                                  param -> {
                                    JsonNode example = param.get("example");
                                    String name =
                                        where + " parameter " + param.path("name").asText();
                                    if (example != null) {
                                      exampleAgainst(param.path("schema"), example, name, wrong);
                                    }
                                    param
                                        .path("examples")
                                        .forEach(
                                            x ->
                                                exampleAgainst(
                                                    param.path("schema"),
                                                    x.path("value"),
                                                    name,
                                                    wrong));
                                  });
                          mediaExamples(
                              o.getValue().path("requestBody").path("content"),
                              where + " request",
                              wrong);
                          o.getValue()
                              .path("responses")
                              .fields()
                              .forEachRemaining(
                                  r ->
                                      mediaExamples(
                                          resolve(r.getValue()).path("content"),
                                          where + " " + r.getKey(),
                                          wrong));
                        }));
    refsWithSiblings(doc, "", wrong);
    return wrong;
  }

  private static final java.util.Set<String> FRAMEWORK_TYPES =
      java.util.Set.of(
          "OutboundSseEvent",
          "MediaType",
          "Response",
          "OffsetDateTime",
          "Multi",
          "Uni",
          "JsonObject");

  private void mediaExamples(JsonNode content, String where, List<String> wrong) {
    content
        .fields()
        .forEachRemaining(
            m -> {
              if (!isJson(m.getKey()) || m.getValue().get("schema") == null) {
                return;
              }
              JsonNode schema = m.getValue().get("schema");
              m.getValue()
                  .path("examples")
                  .fields()
                  .forEachRemaining(
                      x ->
                          exampleAgainst(
                              schema, x.getValue().path("value"), where + " " + x.getKey(), wrong));
              if (m.getValue().has("example")) {
                exampleAgainst(schema, m.getValue().get("example"), where, wrong);
              }
            });
  }

  private void exampleAgainst(JsonNode schema, JsonNode example, String where, List<String> wrong) {
    JsonNode value = example;
    if (example.isTextual()
        && (example.asText().startsWith("{") || example.asText().startsWith("["))) {
      try {
        value = json.readTree(example.asText());
      } catch (IOException e) {
        wrong.add(where + ": not JSON: " + e.getMessage());
        return;
      }
    }
    Schema compiled = schemas.computeIfAbsent(schema, s -> registry.getSchema(absolute(s)));
    compiled.validate(value).forEach(e -> wrong.add(where + ": " + e));
  }

  private static void refsWithSiblings(JsonNode node, String at, List<String> wrong) {
    if (node.isObject()) {
      if (node.has("$ref") && node.size() > 1) {
        wrong.add(at + ": $ref with siblings " + iterable(node.fieldNames()));
      }
      node.fields()
          .forEachRemaining(e -> refsWithSiblings(e.getValue(), at + "/" + e.getKey(), wrong));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        refsWithSiblings(node.get(i), at + "/" + i, wrong);
      }
    }
  }

  private void checkProblem(Response answer, String type, List<String> wrong) {
    if (!"application/problem+json".equals(type)) {
      wrong.add("an error as " + type + ", not application/problem+json");
      return;
    }
    validate(doc.at("/components/schemas/Problem"), answer, wrong);
  }

  private void validate(JsonNode schema, Response answer, List<String> wrong) {
    JsonNode body;
    try {
      body = json.readTree(answer.asByteArray());
    } catch (IOException e) {
      wrong.add("the body is not JSON: " + e.getMessage());
      return;
    }
    Schema compiled = schemas.computeIfAbsent(schema, s -> registry.getSchema(absolute(s)));
    compiled.validate(body).forEach(e -> wrong.add("body: " + e));
  }

  /** A copy of {@code schema} whose references point into the document. */
  private JsonNode absolute(JsonNode schema) {
    JsonNode copy = schema.deepCopy();
    rewriteRefs(copy);
    return copy;
  }

  private static void rewriteRefs(JsonNode node) {
    if (node instanceof ObjectNode o) {
      JsonNode ref = o.get("$ref");
      if (ref != null && ref.isTextual() && ref.asText().startsWith("#")) {
        o.set("$ref", TextNode.valueOf(BASE + ref.asText()));
      }
      o.elements().forEachRemaining(Contract::rewriteRefs);
    } else if (node != null && node.isArray()) {
      node.elements().forEachRemaining(Contract::rewriteRefs);
    }
  }

  private JsonNode resolve(JsonNode node) {
    JsonNode ref = node.get("$ref");
    return ref == null ? node : doc.at(ref.asText().substring(1));
  }

  private static JsonNode mediaFor(JsonNode content, String type) {
    JsonNode exact = content.get(type);
    if (exact != null) {
      return exact;
    }
    String range = type.substring(0, type.indexOf('/') + 1) + "*";
    return content.has(range) ? content.get(range) : content.get("*/*");
  }

  private static boolean isJson(String type) {
    return type.equals("application/json") || type.endsWith("+json");
  }

  private static String mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
        .trim()
        .toLowerCase(Locale.ROOT);
  }

  private static long bodyLength(Response answer) {
    String length = answer.header("Content-Length");
    if (length != null) {
      return Long.parseLong(length.trim());
    }
    return answer.asByteArray().length;
  }

  /** The page and its files, and Quarkus's own endpoints: not the API the document describes. */
  private static boolean outsideApi(String path) {
    return path.startsWith("/q/")
        || path.equals("/")
        || path.matches("/[^/]+\\.(html|js|css|ico|png|svg|map|webmanifest)");
  }

  private static String abbreviated(Response answer) {
    String type = mediaType(answer.contentType());
    if (type == null || !(isJson(type) || type.startsWith("text/plain"))) {
      return "(" + type + ")";
    }
    String body = answer.asString();
    return body.length() > 2000 ? body.substring(0, 2000) + "..." : body;
  }

  private static List<String> iterable(Iterator<String> names) {
    List<String> list = new ArrayList<>();
    names.forEachRemaining(list::add);
    return list;
  }

  /** A path of the document, matched segment by segment ({id} takes one segment). */
  private static final class PathTemplate {
    final String path;
    final Pattern pattern;

    PathTemplate(String path) {
      this.path = path;
      this.pattern = Pattern.compile(path.replaceAll("\\{[^/}]+}", "[^/]+"));
    }

    boolean matches(String actual) {
      return pattern.matcher(actual).matches();
    }

    int templated() {
      return path.split("\\{", -1).length - 1;
    }
  }
}
