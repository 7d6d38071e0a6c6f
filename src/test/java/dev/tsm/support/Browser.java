package dev.tsm.support;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A headless Debian Chromium driven by Debian's chromedriver: the system binaries only, so Selenium
 * Manager never downloads a browser or a driver. A fresh profile in a temporary directory per
 * browser. Screenshots and the browser console go to target/browser-screenshots.
 */
public final class Browser implements AutoCloseable {
  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  public static final Path SCREENSHOTS = Path.of("target", "browser-screenshots");

  private final ChromeDriverService service;
  private final ChromeDriver driver;
  private final Path profile;

  private Browser(ChromeDriverService service, ChromeDriver driver, Path profile) {
    this.service = service;
    this.driver = driver;
    this.profile = profile;
  }

  /** Starts a browser with a desktop-sized window. */
  public static Browser start() {
    for (Path binary : new Path[] {CHROMIUM, CHROMEDRIVER}) {
      if (!Files.isExecutable(binary)) {
        throw new IllegalStateException(
            binary
                + " is missing: the browser tests need Debian's Chromium and chromedriver"
                + " (apt-get install chromium chromium-driver; .ci/run installs them)");
      }
    }
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    Path profile;
    Path log;
    try {
      profile = Files.createTempDirectory("tsm-chromium-");
      log = Files.createDirectories(SCREENSHOTS).resolve("chromedriver.log");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeOptions options = new ChromeOptions();
    // numbers and dates as the tests read them (20,000), whatever the machine's locale
    options.setExperimentalOption("prefs", Map.of("intl.accept_languages", "en-US"));
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-features=Translate,MediaRouter,OptimizationHints",
        "--metrics-recording-only",
        "--password-store=basic",
        "--window-size=1280,1000",
        "--lang=en-US",
        "--user-data-dir=" + profile.toAbsolutePath());
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
            .usingAnyFreePort()
            .withLogFile(log.toFile())
            .build();
    try {
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
      return new Browser(service, driver, profile);
    } catch (RuntimeException e) {
      service.stop();
      deleteTree(profile);
      throw e;
    }
  }

  public ChromeDriver driver() {
    return driver;
  }

  /** Runs a script in every page loaded from now on, before the page's own; returns its id. */
  public String beforeEachPage(String source) {
    Map<String, Object> result =
        driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", source));
    return String.valueOf(result.get("identifier"));
  }

  public void removeBeforeEachPage(String id) {
    driver.executeCdpCommand("Page.removeScriptToEvaluateOnNewDocument", Map.of("identifier", id));
  }

  /**
   * Slows what the page sends to {@code bytesPerSecond} (Chrome's own network throttling, as its
   * developer tools do); downloads keep their speed.
   */
  public void throttleUploads(long bytesPerSecond) {
    network(false, bytesPerSecond);
  }

  /** Cuts the network (offline) or gives it back at full speed. */
  public void offline(boolean offline) {
    network(offline, -1);
  }

  public void unthrottle() {
    network(false, -1);
  }

  private void network(boolean offline, long uploadBytesPerSecond) {
    driver.executeCdpCommand("Network.enable", Map.of());
    driver.executeCdpCommand(
        "Network.emulateNetworkConditions",
        Map.of(
            "offline",
            offline,
            "latency",
            0,
            "downloadThroughput",
            -1,
            "uploadThroughput",
            uploadBytesPerSecond));
  }

  /** Saves a screenshot (and the browser console) as target/browser-screenshots/NAME.png. */
  public Path screenshot(String name) {
    String safe = name.replaceAll("[^A-Za-z0-9._-]+", "_");
    try {
      Path dir = Files.createDirectories(SCREENSHOTS);
      Path png = dir.resolve(safe + ".png");
      Files.write(png, driver.getScreenshotAs(OutputType.BYTES));
      try {
        String console =
            driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .map(LogEntry::toString)
                .collect(Collectors.joining("\n"));
        Files.writeString(dir.resolve(safe + ".console.log"), console, StandardCharsets.UTF_8);
      } catch (RuntimeException ignored) {
        // the console is a bonus
      }
      return png;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs a test body; on failure saves a screenshot named after the test, then rethrows. The
   * screenshot's path is added to the failure as a suppressed note.
   */
  public void recordingFailures(String test, ThrowingRunnable body) throws Exception {
    try {
      body.run();
    } catch (Throwable failure) {
      try {
        Path png = screenshot(test);
        failure.addSuppressed(new Note("screenshot: " + png.toAbsolutePath()));
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
      if (failure instanceof Exception e) {
        throw e;
      }
      throw (Error) failure;
    }
  }

  /** A test body. */
  @FunctionalInterface
  public interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static final class Note extends RuntimeException {
    Note(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
      deleteTree(profile);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory
    }
  }
}
