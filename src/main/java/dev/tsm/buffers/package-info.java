/**
 * Large byte arrays that a task's run reuses instead of allocating one per batch or page, so the
 * heap's old generation does not fill with them.
 */
package dev.tsm.buffers;
