/**
 * {@code ascendj data prepare}: import the configured sources, validate, filter by length, remove
 * exact and near duplicates (MinHash), mix tasks and domains in configured proportions, split
 * train/dev deterministically, export AscendJ JSONL and MindFormers conversation JSON, and report.
 */
package dev.ascendj.data.prepare;
