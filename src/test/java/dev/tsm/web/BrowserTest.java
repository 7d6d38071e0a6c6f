package dev.tsm.web;

import dev.tsm.support.Browser;
import dev.tsm.support.TaskPage;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInfo;

/**
 * What the tests of the page in a browser share: one headless Chromium for a test class, the page's
 * address, the page opened signed in.
 */
abstract class BrowserTest {
  static Browser browser;

  @TestHTTPResource("/")
  URL page;

  @BeforeAll
  static void startBrowser() {
    browser = Browser.start();
  }

  @AfterAll
  static void stopBrowser() {
    if (browser != null) {
      browser.close();
      browser = null;
    }
  }

  /**
   * The page signed in as alice, remembering no upload of an earlier test (the tests of a class
   * share one browser profile).
   */
  TaskPage open() {
    TaskPage p = new TaskPage(browser.driver(), page).open();
    p.script("localStorage.clear()");
    return p;
  }

  static String name(TestInfo info) {
    return info.getTestMethod().map(m -> m.getName()).orElse(info.getDisplayName());
  }
}
