/** An embedded PostgreSQL for running the service where no database is configured. */
package dev.tsm.embedded;
