/**
 * Who may do what: the caller of a request (its subject and roles), the tables each role may import
 * into and export from, and the bound on each owner's active tasks.
 */
package dev.tsm.access;
