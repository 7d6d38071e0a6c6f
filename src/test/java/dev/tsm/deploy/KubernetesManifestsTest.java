package dev.tsm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests parse and agree with each other and with the service: names they
 * reference exist, probes hit the health endpoints, the grace period covers the drain.
 */
class KubernetesManifestsTest {
  private static final Path DIR = Path.of("deploy", "kubernetes");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Map<String, JsonNode> byKind = new HashMap<>();
  private static JsonNode kustomization;

  @BeforeAll
  static void load() throws IOException {
    kustomization = YAML.readTree(DIR.resolve("kustomization.yaml").toFile());
    for (JsonNode resource : kustomization.get("resources")) {
      Path file = DIR.resolve(resource.asText());
      assertTrue(Files.exists(file), "kustomization lists a missing file: " + file);
      JsonNode doc = YAML.readTree(file.toFile());
      assertNotNull(doc.get("apiVersion"), file + " has an apiVersion");
      assertNotNull(doc.path("metadata").get("name"), file + " has a name");
      byKind.put(doc.get("kind").asText(), doc);
    }
  }

  @Test
  void everyKindAnOperatorNeedsIsThere() {
    for (String kind :
        Set.of(
            "Namespace",
            "ConfigMap",
            "PersistentVolumeClaim",
            "Deployment",
            "Service",
            "PodDisruptionBudget")) {
      assertTrue(byKind.containsKey(kind), "missing " + kind);
    }
    assertEquals(
        "ReadWriteMany",
        byKind.get("PersistentVolumeClaim").path("spec").path("accessModes").get(0).asText());
  }

  @Test
  void deploymentReferencesWhatExists() {
    JsonNode spec = byKind.get("Deployment").path("spec");
    assertEquals(3, spec.path("replicas").asInt());
    JsonNode pod = spec.path("template");
    JsonNode container = pod.path("spec").path("containers").get(0);
    assertEquals(
        name("ConfigMap"),
        container.path("envFrom").get(0).path("configMapRef").path("name").asText());
    Set<String> secretKeys = new HashSet<>();
    for (JsonNode env : container.path("env")) {
      JsonNode ref = env.path("valueFrom").path("secretKeyRef");
      assertEquals("task-state-manager-database", ref.path("name").asText());
      secretKeys.add(env.path("name").asText());
    }
    assertEquals(Set.of("QUARKUS_DATASOURCE_USERNAME", "QUARKUS_DATASOURCE_PASSWORD"), secretKeys);
    String claim = null;
    for (JsonNode volume : pod.path("spec").path("volumes")) {
      if (volume.has("persistentVolumeClaim")) {
        claim = volume.path("persistentVolumeClaim").path("claimName").asText();
      }
    }
    assertEquals(name("PersistentVolumeClaim"), claim);
    String storage = byKind.get("ConfigMap").path("data").path("TSM_STORAGE_DIR").asText();
    boolean mounted = false;
    for (JsonNode mount : container.path("volumeMounts")) {
      mounted |= storage.equals(mount.path("mountPath").asText());
    }
    assertTrue(mounted, "the file store " + storage + " is mounted");
  }

  @Test
  void probesHitTheHealthEndpoints() {
    JsonNode container = container();
    assertEquals(
        "/q/health/live", container.path("livenessProbe").path("httpGet").path("path").asText());
    assertEquals(
        "/q/health/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
    assertEquals(
        "/q/health/started", container.path("startupProbe").path("httpGet").path("path").asText());
  }

  @Test
  void managementInterfaceStaysInsideThePod() {
    JsonNode container = container();
    Map<String, Integer> ports = new HashMap<>();
    container
        .path("ports")
        .forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    assertEquals(9000, ports.get("management"), "quarkus.management's default port");
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      assertEquals(
          "management", container.path(probe).path("httpGet").path("port").asText(), probe);
    }
    for (JsonNode port : byKind.get("Service").path("spec").path("ports")) {
      String target = port.path("targetPort").asText();
      assertTrue(
          !target.equals("management") && !target.equals("9000"),
          "the Service exposes only the API: " + port);
    }
    JsonNode policy = byKind.get("NetworkPolicy");
    assertNotNull(policy, "a NetworkPolicy");
    JsonNode labels =
        byKind.get("Deployment").path("spec").path("template").path("metadata").path("labels");
    JsonNode selected = policy.path("spec").path("podSelector").path("matchLabels");
    assertTrue(selected.size() > 0, "the policy selects by labels");
    selected
        .fields()
        .forEachRemaining(e -> assertEquals(e.getValue(), labels.get(e.getKey()), e.getKey()));
    for (JsonNode rule : policy.path("spec").path("ingress")) {
      boolean management = false;
      for (JsonNode port : rule.path("ports")) {
        management |= port.path("port").asInt() == 9000;
      }
      assertTrue(!management || rule.path("from").size() > 0, "9000 only from some: " + rule);
    }
  }

  @Test
  void accessComesFromASecretAndThePodHasNoApiToken() {
    JsonNode pod = byKind.get("Deployment").path("spec").path("template").path("spec");
    assertEquals(false, pod.path("automountServiceAccountToken").asBoolean(true));
    boolean fromSecret = false;
    for (JsonNode source : container().path("envFrom")) {
      fromSecret |=
          "task-state-manager-auth".equals(source.path("secretRef").path("name").asText());
    }
    assertTrue(fromSecret, "provider settings, keys and session secret from a Secret");
  }

  @Test
  void gracePeriodCoversTheDrain() {
    JsonNode data = byKind.get("ConfigMap").path("data");
    Duration drain =
        Duration.parse("PT" + data.path("TSM_RUNNER_DRAIN_TIMEOUT").asText().toUpperCase());
    Duration shutdown =
        Duration.parse("PT" + data.path("QUARKUS_SHUTDOWN_TIMEOUT").asText().toUpperCase());
    long grace =
        byKind
            .get("Deployment")
            .path("spec")
            .path("template")
            .path("spec")
            .path("terminationGracePeriodSeconds")
            .asLong();
    assertTrue(grace > drain.toSeconds(), "grace " + grace + " s > drain " + drain);
    assertTrue(grace > shutdown.toSeconds(), "grace " + grace + " s > shutdown " + shutdown);
  }

  @Test
  void runsAsNonRootOnAReadOnlyFilesystem() {
    JsonNode pod = byKind.get("Deployment").path("spec").path("template").path("spec");
    assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean());
    JsonNode security = container().path("securityContext");
    assertTrue(security.path("readOnlyRootFilesystem").asBoolean());
    assertTrue(!security.path("allowPrivilegeEscalation").asBoolean(true));
  }

  @Test
  void deploymentServiceAndBudgetSelectThePods() {
    JsonNode labels =
        byKind.get("Deployment").path("spec").path("template").path("metadata").path("labels");
    assertTrue(labels.isObject() && !labels.isEmpty(), "the pod template has labels: " + labels);
    for (String kind : Set.of("Deployment", "Service", "PodDisruptionBudget")) {
      // An empty selector selects nothing (a Service) or everything (a budget): never the pods.
      JsonNode selector = byKind.get(kind).path("spec").path("selector");
      JsonNode match = selector.has("matchLabels") ? selector.path("matchLabels") : selector;
      assertTrue(
          match.isObject() && !match.isEmpty(), kind + " has a non-empty selector: " + selector);
      match
          .fields()
          .forEachRemaining(
              e -> {
                assertTrue(labels.has(e.getKey()), kind + " selects by a label the pods lack");
                assertEquals(
                    e.getValue().asText(),
                    labels.path(e.getKey()).asText(),
                    kind + " selects the pods");
              });
    }
    assertEquals(
        container().path("ports").get(0).path("name").asText(),
        byKind.get("Service").path("spec").path("ports").get(0).path("targetPort").asText());
  }

  private static JsonNode container() {
    return byKind
        .get("Deployment")
        .path("spec")
        .path("template")
        .path("spec")
        .path("containers")
        .get(0);
  }

  private static String name(String kind) {
    return byKind.get(kind).path("metadata").path("name").asText();
  }
}
