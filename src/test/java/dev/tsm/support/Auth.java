package dev.tsm.support;

import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;

/**
 * The test callers: API keys configured in the test profile (application.properties, %test). Tests
 * act as {@link #ALICE} unless they say otherwise; {@link #BOB} is another user, {@link #ROOT} an
 * administrator, {@link #READER} a caller whose role has no grants.
 */
public final class Auth {
  public static final String ALICE = "tsm_test_alice_0000000000000000000000";
  public static final String BOB = "tsm_test_bob_00000000000000000000000000";
  public static final String ROOT = "tsm_test_root_0000000000000000000000000";
  public static final String READER = "tsm_test_reader_000000000000000000000";

  static {
    // Every answer is checked against docs/openapi.yaml, in tests outside Quarkus's too.
    Contract.install();
  }

  private Auth() {}

  /** A request as alice, the default test caller. */
  public static RequestSpecification given() {
    return as(ALICE);
  }

  /** A request with {@code key} as its bearer token. */
  public static RequestSpecification as(String key) {
    return RestAssured.given().header("Authorization", bearer(key));
  }

  /** A request without credentials. */
  public static RequestSpecification anonymous() {
    return RestAssured.given();
  }

  /** The Authorization header's value for {@code key}. */
  public static String bearer(String key) {
    return "Bearer " + key;
  }

  /** The header line for hand-written HTTP requests (with its CRLF). */
  public static String headerLine() {
    return "Authorization: " + bearer(ALICE) + "\r\n";
  }
}
