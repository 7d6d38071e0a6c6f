/**
 * CSV files in PostgreSQL's dialect: finding record boundaries and what PostgreSQL would refuse,
 * decoding a header and a sample, and the folder where every task's file lives.
 */
package dev.tsm.csv;
