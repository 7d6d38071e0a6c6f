package dev.tsm.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.Config;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/configuration.md names every setting of the {@link Config} mapping. */
class ConfigurationDocTest {
  @Test
  void everyKeyIsDocumented() throws IOException {
    String doc = Files.readString(Path.of("docs", "configuration.md"));
    List<String> missing = new ArrayList<>();
    for (String key : keys("tsm", Config.class)) {
      if (!doc.contains("`" + key + "`")) {
        missing.add(key);
      }
    }
    assertTrue(missing.isEmpty(), "not in docs/configuration.md: " + missing);
  }

  /** The keys of a mapping interface: methods become kebab-case names, nested ones recurse. */
  private static List<String> keys(String prefix, Class<?> mapping) {
    List<String> keys = new ArrayList<>();
    for (Method m : mapping.getDeclaredMethods()) {
      io.smallrye.config.WithName renamed = m.getAnnotation(io.smallrye.config.WithName.class);
      String name = prefix + "." + (renamed != null ? renamed.value() : kebab(m.getName()));
      if (m.getReturnType().isInterface()
          && m.getReturnType().getEnclosingClass() == Config.class) {
        keys.addAll(keys(name, m.getReturnType()));
      } else {
        keys.add(name);
      }
    }
    return keys;
  }

  private static String kebab(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
  }
}
