package dev.tsm.db;

import java.sql.SQLException;

/** A database failure inside a pipeline (checked exceptions cannot cross Mutiny lambdas). */
public class DatabaseException extends RuntimeException {
  public DatabaseException(SQLException cause) {
    super(cause.getMessage(), cause);
  }
}
