/**
 * What is kept and for how long: expired export files, stale failed tasks and what a crash left
 * behind, swept by one replica at a time.
 */
package dev.tsm.retention;
