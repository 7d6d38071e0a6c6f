/**
 * Bytes arriving from a client, whatever framed them: admitted under the upload and disk limits,
 * written to the task's staged file as they come (decompressed on the way when gzip), followed
 * while they grow, and held to the instance receiving them. No HTTP types.
 */
package dev.tsm.upload;
