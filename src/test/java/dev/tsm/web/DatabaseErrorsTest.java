package dev.tsm.web;

import static dev.tsm.support.Auth.given;
import static dev.tsm.support.Problems.assertProblem;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tsm.db.DatabaseErrors;
import dev.tsm.db.DatabaseException;
import dev.tsm.support.Db;
import dev.tsm.support.TestDatabase;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 503 is for a database that cannot be reached; an error the database answered with is a 500 that
 * says a database error happened, without SQL or class names. Every exception here is produced by a
 * real PostgreSQL, a real pool or a real closed port, and judged by the service's own mapper.
 */
@QuarkusTest
@QuarkusTestResource(value = TestDatabase.class, restrictToAnnotatedClass = false)
class DatabaseErrorsTest {
  private static final String DATABASE_ERROR = "a database error happened";
  private static final String UNAVAILABLE = "the database is not available; try again shortly";

  @Inject Vertx vertx;

  // ---- errors the database answered with: 500 ------------------------------------------------

  @Test
  void missingTableThroughJdbcIs500() {
    SQLException e = jdbcError("SELECT * FROM no_such_table_here");
    assertEquals("42P01", e.getSQLState());
    assertDatabaseError(new DatabaseException(e), "no_such_table_here");
  }

  @Test
  void missingTableThroughTheReactiveClientIs500() {
    Pool pool = reactivePool(TestDatabase.pg().port(), 1, Duration.ofSeconds(10));
    try {
      Throwable e = reactiveFailure(pool, "SELECT * FROM no_such_table_here");
      assertEquals("42P01", DatabaseErrors.firstSqlState(e));
      assertDatabaseError(e, "no_such_table_here");
    } finally {
      pool.close();
    }
  }

  @Test
  void cancelledStatementIs500() {
    // Class 57 but not 57P: the statement was cancelled, the database is there.
    SQLException e = jdbcError("SET statement_timeout = 1; SELECT pg_sleep(1)");
    assertEquals("57014", e.getSQLState());
    assertDatabaseError(new DatabaseException(e), "statement timeout");
  }

  @Test
  void uniqueViolationIs500() {
    Db.execute("CREATE TABLE IF NOT EXISTS mapper_unique (id int PRIMARY KEY)");
    SQLException e =
        jdbcError(
            "INSERT INTO mapper_unique VALUES (1) ON CONFLICT DO NOTHING;"
                + " INSERT INTO mapper_unique VALUES (1)");
    assertEquals("23505", e.getSQLState());
    assertDatabaseError(new DatabaseException(e), "mapper_unique");
  }

  // ---- a database that cannot be reached: 503 ------------------------------------------------

  @Test
  void closedPortThroughJdbcIs503() throws IOException {
    int port = closedPort();
    SQLException e =
        assertThrows(
            SQLException.class,
            () ->
                DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/x", "x", ""));
    assertTrue(e.getSQLState().startsWith("08"), e.getSQLState());
    assertUnavailable(new DatabaseException(e));
  }

  @Test
  void closedPortThroughTheReactiveClientIs503() throws IOException {
    Pool pool = reactivePool(closedPort(), 1, Duration.ofSeconds(10));
    try {
      assertUnavailable(reactiveFailure(pool, "SELECT 1"));
    } finally {
      pool.close();
    }
  }

  @Test
  void sessionEndedByTheServerIs503() throws SQLException {
    try (Connection victim = TestDatabase.pg().connect()) {
      terminate(pid(victim));
      SQLException e = assertThrows(SQLException.class, () -> query(victim, "SELECT 1"));
      assertTrue(
          e.getSQLState().equals("57P01") || e.getSQLState().startsWith("08"), e.getSQLState());
      assertUnavailable(new DatabaseException(e));
    }
  }

  @Test
  void reactiveSessionEndedByTheServerMidQueryIs503() {
    Pool pool = reactivePool(TestDatabase.pg().port(), 1, Duration.ofSeconds(10));
    try {
      SqlConnection connection =
          pool.getConnection().toCompletionStage().toCompletableFuture().join();
      int pid =
          connection
              .query("SELECT pg_backend_pid()")
              .execute()
              .toCompletionStage()
              .toCompletableFuture()
              .join()
              .iterator()
              .next()
              .getInteger(0);
      var sleeping =
          connection
              .query("SELECT pg_sleep(30)")
              .execute()
              .toCompletionStage()
              .toCompletableFuture();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  "active"
                      .equals(Db.single("SELECT state FROM pg_stat_activity WHERE pid = " + pid)));
      terminate(pid);
      CompletionException e =
          assertThrows(
              CompletionException.class, () -> sleeping.orTimeout(10, TimeUnit.SECONDS).join());
      assertUnavailable(e.getCause());
    } finally {
      pool.close();
    }
  }

  @Test
  void tooManyConnectionsIs503() {
    String role = "tsm_limited_" + UUID.randomUUID().toString().substring(0, 8);
    Db.execute("CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 0");
    try {
      SQLException e =
          assertThrows(
              SQLException.class,
              () -> DriverManager.getConnection(TestDatabase.pg().jdbcUrl(), role, ""));
      assertEquals("53300", e.getSQLState());
      assertUnavailable(new DatabaseException(e));
    } finally {
      Db.execute("DROP ROLE " + role);
    }
  }

  @Test
  void poolWithEveryConnectionInUseIs503() throws SQLException {
    try (AgroalDataSource pool = agroal(TestDatabase.pg().jdbcUrl());
        Connection held = pool.getConnection()) {
      SQLException e = assertThrows(SQLException.class, pool::getConnection);
      assertUnavailable(new DatabaseException(e));
    }
  }

  @Test
  void poolThatCannotOpenAConnectionInTimeIs503() throws Exception {
    // A server that accepts connections and never answers: opening one outlasts the pool's wait.
    try (ServerSocket silent = new ServerSocket(0)) {
      List<Socket> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    accepted.add(silent.accept());
                  }
                } catch (IOException closed) {
                  // the test is over
                }
              });
      acceptor.start();
      try (AgroalDataSource pool =
          agroal("jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/x")) {
        SQLException e = assertThrows(SQLException.class, pool::getConnection);
        assertUnavailable(new DatabaseException(e));
      } finally {
        silent.close();
        for (Socket s : accepted) {
          s.close();
        }
        acceptor.join(TimeUnit.SECONDS.toMillis(10));
      }
    }
  }

  @Test
  void reactivePoolWithEveryConnectionInUseIs503() {
    Pool pool = reactivePool(TestDatabase.pg().port(), 1, Duration.ofMillis(300));
    try {
      SqlConnection held = pool.getConnection().toCompletionStage().toCompletableFuture().join();
      try {
        assertUnavailable(reactiveFailure(pool, "SELECT 1"));
      } finally {
        held.close();
      }
    } finally {
      pool.close();
    }
  }

  // ---- end to end ----------------------------------------------------------------------------

  /**
   * A rule of the database refuses the task row (as a DBA's trigger might): the API answers 500
   * with a database error, not 503, and neither the trigger's words nor any SQL.
   */
  @Test
  void errorRaisedByTheDatabaseReachesTheClientAs500() {
    Db.execute("CREATE TABLE db_error_probe (id int PRIMARY KEY)");
    Db.execute(
        "CREATE FUNCTION tsm.refuse_probe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " RAISE EXCEPTION 'probe refused by policy' USING ERRCODE = 'P0001'; END $$");
    Db.execute(
        "CREATE TRIGGER refuse_probe BEFORE INSERT ON tsm.task FOR EACH ROW"
            + " WHEN (NEW.table_name = 'db_error_probe') EXECUTE FUNCTION tsm.refuse_probe()");
    try {
      io.restassured.response.Response r =
          given()
              .contentType("application/json")
              .body("{\"table\": \"db_error_probe\"}")
              .post("/exports");
      String detail = assertProblem(r, 500, DATABASE_ERROR).getString("detail");
      assertFalse(detail.contains("probe refused"), detail);
      assertFalse(detail.contains("INSERT"), detail);
      assertEquals(
          0, Db.count("SELECT count(*) FROM tsm.task WHERE table_name = 'db_error_probe'"));
    } finally {
      Db.execute("DROP TRIGGER refuse_probe ON tsm.task");
      Db.execute("DROP FUNCTION tsm.refuse_probe()");
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static void assertDatabaseError(Throwable e, String sqlWords) {
    Problem p = answer(e, 500);
    assertTrue(p.detail().startsWith(DATABASE_ERROR), p.detail());
    assertNoInternals(p, sqlWords);
  }

  private static void assertUnavailable(Throwable e) {
    Problem p = answer(e, 503);
    assertEquals(UNAVAILABLE, p.detail());
    assertNoInternals(p, "127.0.0.1");
  }

  private static Problem answer(Throwable e, int status) {
    Response r = ProblemMapper.failure(e, "GET", "/probe");
    Problem p = (Problem) r.getEntity();
    assertEquals(status, r.getStatus(), () -> "for " + e + ": " + p.detail());
    assertEquals(Problem.MEDIA_TYPE, r.getMediaType().toString());
    assertEquals(status, p.status());
    assertEquals("/probe", p.instance());
    return p;
  }

  private static void assertNoInternals(Problem p, String words) {
    for (String leak :
        List.of(words, "Exception", "SQL", "org.", "io.", "ERROR:", "relation", "FATAL")) {
      assertFalse(p.detail().contains(leak), () -> "'" + p.detail() + "' names " + leak);
    }
  }

  private static SQLException jdbcError(String sql) {
    try (Connection c = TestDatabase.pg().connect()) {
      return assertThrows(SQLException.class, () -> query(c, sql));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void query(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static int pid(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        var rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void terminate(int pid) {
    assertEquals("t", Db.single("SELECT pg_terminate_backend(" + pid + ", 5000)"));
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static AgroalDataSource agroal(String url) throws SQLException {
    return AgroalDataSource.from(
        new AgroalDataSourceConfigurationSupplier()
            .connectionPoolConfiguration(
                pool ->
                    pool.maxSize(1)
                        .acquisitionTimeout(Duration.ofMillis(300))
                        .connectionFactoryConfiguration(
                            factory ->
                                factory
                                    .jdbcUrl(url)
                                    .principal(new NamePrincipal(TestDatabase.pg().user())))));
  }

  private Pool reactivePool(int port, int size, Duration wait) {
    PgConnectOptions connect =
        new PgConnectOptions()
            .setHost(TestDatabase.pg().host())
            .setPort(port)
            .setDatabase(TestDatabase.pg().database())
            .setUser(TestDatabase.pg().user());
    PoolOptions options =
        new PoolOptions()
            .setMaxSize(size)
            .setConnectionTimeout((int) wait.toMillis())
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS);
    return PgBuilder.pool().with(options).connectingTo(connect).using(vertx).build();
  }

  private static Throwable reactiveFailure(Pool pool, String sql) {
    CompletionException e =
        assertThrows(
            CompletionException.class,
            () -> pool.query(sql).execute().toCompletionStage().toCompletableFuture().join());
    return e.getCause();
  }
}
