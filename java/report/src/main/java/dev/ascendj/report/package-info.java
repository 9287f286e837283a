/**
 * Charts as PNG files: {@link dev.ascendj.report.LineChart} (series of points, e.g. a loss curve)
 * and {@link dev.ascendj.report.BarChart} (grouped bars, e.g. a data report's counts), both drawn
 * headless and written atomically.
 */
package dev.ascendj.report;
