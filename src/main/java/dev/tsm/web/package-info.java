/**
 * The HTTP API, the only package with HTTP types: resources, views, request bodies and their
 * limits, Server-Sent Events, and every error answered as an RFC 9457 problem.
 */
package dev.tsm.web;
