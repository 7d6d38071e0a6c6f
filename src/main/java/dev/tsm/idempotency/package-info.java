/** Idempotency keys: a repeated creating request answers what the first one created. */
package dev.tsm.idempotency;
