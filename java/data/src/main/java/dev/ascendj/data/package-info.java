/**
 * The data layer below training: instruction examples ({@link dev.ascendj.data.InstructionRecord},
 * read from JSON Lines), the strict UTF-8 line reader ({@link dev.ascendj.data.Utf8Lines}) and the
 * error every malformed data file raises ({@link dev.ascendj.data.DataFormatException}, naming the
 * file and line).
 *
 * <p>Knowledge-graph instruction data: named-entity recognition (NER) and relation-triple extraction
 * (RTE) examples, their canonical output syntax ({@link dev.ascendj.data.OutputFormat}) and its
 * robust reader ({@link dev.ascendj.data.OutputParser}), and the instruction templates. Importers
 * live in {@code io}, the cleaning and mixing pipeline in {@code prepare}, extraction with a model
 * in {@code extract}, and scoring in {@code eval}.
 */
package dev.ascendj.data;
