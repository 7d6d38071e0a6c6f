/**
 * PostgreSQL for everyone: JDBC transactions, quoting, the catalog of reachable tables, and telling
 * a database that cannot be reached from one that answered with an error.
 */
package dev.tsm.db;
