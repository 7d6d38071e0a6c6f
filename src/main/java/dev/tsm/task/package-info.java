/**
 * Tasks, whatever they move: their states and the commands that change them, the store of their
 * rows, the runner that runs them as ordered, fenced, resumable pipelines, and their live changes.
 */
package dev.tsm.task;
