/**
 * Resumable uploads (tus 1.0): the bytes of an import's file arrive in any number of requests, at
 * any replica, and the import loads them as they come.
 */
package dev.tsm.tus;
