/**
 * Task State Manager: its settings ({@link dev.tsm.Config}), its start and the refusals it answers.
 */
package dev.tsm;
