package dev.tsm.importing;

/** A row the import cannot take while its policy says fail (or its maxErrors is used up). */
class BadRowException extends RuntimeException {
  BadRowException(String message) {
    super(message);
  }
}
