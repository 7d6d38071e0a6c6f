package dev.tsm.support;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;

/**
 * Puts {@link Contract} in front of every rest-assured request of every Quarkus test, before each
 * test (registered in META-INF/services), whatever way the test builds its requests.
 */
public class ContractCallback implements QuarkusTestBeforeEachCallback {
  @Override
  public void beforeEach(QuarkusTestMethodContext context) {
    Contract.install();
  }
}
