/**
 * Completion callbacks: the outbox the database fills when a task that names a callback URL ends
 * (V10), delivered by every replica, signed, retried with backoff, at least once.
 */
package dev.tsm.callback;
