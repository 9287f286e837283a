/**
 * Knowledge-graph instruction data: named-entity recognition (NER) and relation-triple extraction
 * (RTE) examples, their canonical output syntax ({@link dev.ascendj.data.OutputFormat}) and its
 * robust reader ({@link dev.ascendj.data.OutputParser}), and the instruction templates. Importers
 * live in {@code io}, the cleaning and mixing pipeline in {@code prepare}, extraction with a model
 * in {@code extract}, and scoring in {@code eval}.
 */
package dev.ascendj.data;
