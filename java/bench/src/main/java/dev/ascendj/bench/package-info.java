/** Benchmarks run by {@code ascendj bench}. */
package dev.ascendj.bench;
