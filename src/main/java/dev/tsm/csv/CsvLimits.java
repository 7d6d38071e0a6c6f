package dev.tsm.csv;

/** Limits that bound memory whatever the input: no field or record may grow past them. */
public record CsvLimits(int maxFieldBytes, int maxRecordBytes, int maxColumns) {}
