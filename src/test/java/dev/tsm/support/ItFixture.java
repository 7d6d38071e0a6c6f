package dev.tsm.support;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a reliability IT works on: a database and storage folder of its own ({@link ItDatabase}) and
 * a reader of its task table ({@link TaskTable}), each made on first use and both closed after the
 * class's {@code @AfterAll} methods (so a service the class still runs is stopped first).
 * Registered on a static field: {@code @RegisterExtension static final ItFixture it = new
 * ItFixture("CrashIT");}.
 */
public final class ItFixture implements AfterAllCallback {
  private final String name;
  private ItDatabase db;
  private TaskTable tasks;

  /** {@code name} names the database and the storage folder (the test class, as a rule). */
  public ItFixture(String name) {
    this.name = name;
  }

  public synchronized ItDatabase db() {
    if (db == null) {
      db = new ItDatabase(name);
    }
    return db;
  }

  public synchronized TaskTable tasks() {
    if (tasks == null) {
      tasks = new TaskTable(db().pg());
    }
    return tasks;
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    try {
      if (tasks != null) {
        tasks.close();
      }
    } finally {
      if (db != null) {
        db.close();
      }
    }
  }
}
