/**
 * Export tasks: a table into a CSV file, in keyset pages written by PostgreSQL's own encoder, each
 * page synced before its checkpoint, the file published at completion.
 */
package dev.tsm.exporting;
