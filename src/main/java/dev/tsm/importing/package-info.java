/**
 * Import tasks: a CSV file into a table, accepted (header, sample, types, plan), copied in batches
 * through PostgreSQL COPY into a staging table, with its bad rows, and published at completion.
 */
package dev.tsm.importing;
