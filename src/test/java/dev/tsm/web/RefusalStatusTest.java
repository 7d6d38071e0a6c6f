package dev.tsm.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tsm.Refusal;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one place where a reason to refuse becomes an HTTP status: each reason has its own. */
class RefusalStatusTest {
  @Test
  void eachReasonHasTheStatusItsClientsExpect() {
    Map<Refusal.Reason, Integer> expected = new EnumMap<>(Refusal.Reason.class);
    expected.put(Refusal.Reason.INVALID, 400);
    expected.put(Refusal.Reason.NOT_FOUND, 404);
    expected.put(Refusal.Reason.TIMED_OUT, 408);
    expected.put(Refusal.Reason.CONFLICT, 409);
    expected.put(Refusal.Reason.GONE, 410);
    expected.put(Refusal.Reason.TOO_LARGE, 413);
    expected.put(Refusal.Reason.BUSY, 503);
    expected.put(Refusal.Reason.NO_SPACE, 507);
    expected.put(Refusal.Reason.FORBIDDEN, 403);
    expected.put(Refusal.Reason.TOO_MANY, 429);
    expected.put(Refusal.Reason.LOCKED, 423);
    expected.put(Refusal.Reason.CHECKSUM_MISMATCH, 460);
    expected.put(Refusal.Reason.UNSUPPORTED_VERSION, 412);
    expected.put(Refusal.Reason.UNPROCESSABLE, 422);
    for (Refusal.Reason reason : Refusal.Reason.values()) {
      assertEquals(expected.get(reason), ProblemMapper.status(reason), reason.name());
    }
  }

  @Test
  void aBusyRefusalSaysWhenToRetry() {
    Refusal busy = Refusal.busy("every upload slot is taken", 5);
    assertEquals(Refusal.Reason.BUSY, busy.reason());
    assertEquals(5, busy.retryAfterSeconds());
    assertEquals(0, Refusal.invalid("x").retryAfterSeconds());
    Refusal tooMany = Refusal.tooMany("alice has 8 tasks going", 5);
    assertEquals(Refusal.Reason.TOO_MANY, tooMany.reason());
    assertEquals(5, tooMany.retryAfterSeconds());
  }
}
