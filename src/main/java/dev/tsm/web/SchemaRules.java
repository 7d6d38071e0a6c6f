package dev.tsm.web;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.media.MediaType;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.media.Schema.SchemaType;

/**
 * Shapes the schemas the scanner makes into ones client generators read the same way: a date-time
 * is an inline string (no schema named after a Java class), a reference never has siblings (its
 * description moves beside an allOf), a nullable value is {@code type: [x, "null"]} or {@code
 * anyOf: [x, null]} and nothing else, and every property of an answer's object is required (the
 * service writes them all, null or not) unless the object lists its own. A body that may be a form
 * lists multipart/form-data first, with its schema inline: openapi-generator's Java client builds
 * its method from the first media type, and imports a form's model that it never writes when the
 * form comes second or by reference. A body that is neither JSON, a form nor an event stream is a
 * file, in or out: a binary string. A CSV body is also taken as text/plain or
 * application/octet-stream (the uploads' {@code @Consumes}), declared beside text/csv.
 */
final class SchemaRules {
  private static final String DATE_TIME = "#/components/schemas/OffsetDateTime";
  private static final String FORM = "multipart/form-data";

  private SchemaRules() {}

  static void apply(OpenAPI api) {
    if (api.getComponents().getSchemas() == null) {
      return;
    }
    api.getComponents().removeSchema("OffsetDateTime");
    Map<String, Schema> components = new java.util.HashMap<>(api.getComponents().getSchemas());
    Set<String> requests = new HashSet<>();
    Set<String> forms = new HashSet<>();
    if (api.getPaths() != null) {
      api.getPaths()
          .getPathItems()
          .values()
          .forEach(
              item ->
                  item.getOperations()
                      .values()
                      .forEach(
                          op -> {
                            if (op.getParameters() != null) {
                              op.getParameters().forEach(p -> p.setSchema(shape(p.getSchema())));
                            }
                            if (op.getRequestBody() != null) {
                              requestTypes(op.getRequestBody().getContent(), components, forms);
                              eachSchema(
                                  op.getRequestBody().getContent(),
                                  s -> {
                                    if (s.getRef() != null) {
                                      requests.add(name(s.getRef()));
                                    }
                                  });
                              shapeAll(op.getRequestBody().getContent());
                            }
                            if (op.getResponses() != null
                                && op.getResponses().getAPIResponses() != null) {
                              op.getResponses()
                                  .getAPIResponses()
                                  .values()
                                  .forEach(r -> shapeAll(r.getContent()));
                            }
                          }));
    }
    forms.forEach(api.getComponents()::removeSchema);
    forms.forEach(components::remove);
    components.values().forEach(SchemaRules::shape);
    if (api.getPaths() != null) {
      // A HEAD answer has no body (nor a type to refuse), whatever the class's @Produces says.
      api.getPaths().getPathItems().values().stream()
          .filter(item -> item.getHEAD() != null && item.getHEAD().getResponses() != null)
          .map(item -> item.getHEAD().getResponses())
          .forEach(
              responses -> {
                responses.removeAPIResponse("406");
                responses.getAPIResponses().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("2"))
                    .forEach(e -> e.getValue().setContent(null));
              });
    }
    components.forEach(
        (name, schema) -> {
          if (schema.getProperties() != null
              && schema.getRequired() == null
              && !requests.contains(name)) {
            schema.setRequired(new ArrayList<>(schema.getProperties().keySet()));
          }
        });
    // A preview's values are text or null (a NULL): List<List<String>> cannot say so.
    Schema preview = components.get("ImportPreview");
    if (preview != null && preview.getProperties() != null) {
      preview.getProperties().get("rows").getItems().getItems().addType(SchemaType.NULL);
    }
  }

  /**
   * Puts a form first, inline (adding the name of the component it referred to to {@code forms}),
   * and declares the other types a CSV body is taken as.
   */
  private static void requestTypes(
      Content content, Map<String, Schema> components, Set<String> forms) {
    if (content == null || content.getMediaTypes() == null) {
      return;
    }
    Map<String, MediaType> ordered = new LinkedHashMap<>();
    MediaType form = content.getMediaTypes().get(FORM);
    if (form != null) {
      if (form.getSchema() != null && form.getSchema().getRef() != null) {
        String name = name(form.getSchema().getRef());
        form.setSchema(components.get(name));
        forms.add(name);
      }
      ordered.put(FORM, form);
    }
    content.getMediaTypes().forEach(ordered::putIfAbsent);
    if (ordered.containsKey("text/csv")) {
      ordered.putIfAbsent("text/plain", OASFactory.createMediaType());
      ordered.putIfAbsent("application/octet-stream", OASFactory.createMediaType());
    }
    content.setMediaTypes(ordered);
  }

  private static void shapeAll(Content content) {
    if (content != null && content.getMediaTypes() != null) {
      content
          .getMediaTypes()
          .forEach(
              (type, m) -> {
                if (m.getSchema() == null && isFile(type)) {
                  m.setSchema(
                      OASFactory.createSchema().addType(SchemaType.STRING).format("binary"));
                }
                m.setSchema(shape(m.getSchema()));
              });
    }
  }

  private static boolean isFile(String type) {
    return !type.equals("application/json")
        && !type.endsWith("+json")
        && !type.equals(FORM)
        && !type.equals("text/event-stream");
  }

  private static void eachSchema(Content content, Consumer<Schema> action) {
    if (content != null && content.getMediaTypes() != null) {
      content.getMediaTypes().values().stream()
          .filter(m -> m.getSchema() != null)
          .forEach(m -> action.accept(m.getSchema()));
    }
  }

  /** {@code schema} and everything in it, shaped by the rules (in place; returned). */
  private static Schema shape(Schema schema) {
    if (schema == null) {
      return null;
    }
    if (schema.getProperties() != null) {
      schema.getProperties().values().forEach(SchemaRules::shape);
    }
    schema.setItems(shape(schema.getItems()));
    if (schema.getAdditionalPropertiesSchema() != null) {
      schema.setAdditionalPropertiesSchema(shape(schema.getAdditionalPropertiesSchema()));
    }
    List<Schema> anyOf = schema.getAnyOf();
    if (anyOf != null) {
      anyOf.forEach(SchemaRules::shape);
      Schema value = anyOf.stream().filter(s -> !isNull(s)).findFirst().orElse(null);
      if (anyOf.size() == 2 && value != null && value.getRef() == null) {
        // A nullable inline value (a date-time): one type list, no anyOf.
        schema.setAnyOf(null);
        schema.setType(List.of(value.getType().get(0), SchemaType.NULL));
        schema.setFormat(value.getFormat());
      } else {
        // A nullable reference: the anyOf says it all.
        schema.setType(null);
      }
      return schema;
    }
    String ref = schema.getRef();
    if (ref == null) {
      return schema;
    }
    if (DATE_TIME.equals(ref)) {
      schema.setRef(null);
      schema.setType(List.of(SchemaType.STRING));
      schema.setFormat("date-time");
      return schema;
    }
    if (schema.getAll().size() > 1) {
      // A reference with a description (or a type the scanner added): the reference goes in an
      // allOf, which generators read as the referenced type.
      schema.setRef(null);
      schema.setType(null);
      schema.addAllOf(OASFactory.createSchema().ref(ref));
    }
    return schema;
  }

  private static boolean isNull(Schema s) {
    return s.getRef() == null
        && s.getType() != null
        && s.getType().equals(List.of(SchemaType.NULL));
  }

  private static String name(String ref) {
    return ref.substring(ref.lastIndexOf('/') + 1);
  }
}
