/**
 * Importers from the common public formats into {@link dev.ascendj.data.KgSample}s: span-annotated
 * NER JSON, BIO/BIOES CoNLL files, relation JSON and plain instruction JSONL. A malformed record
 * stops the import with a {@link dev.ascendj.data.DataFormatException} naming file and line,
 * unless bad records are to be skipped ({@link dev.ascendj.data.io.BadRecords#skipping()}), in which
 * case it is listed and the rest of the file is read. The one writer of MindFormers' conversation
 * JSON ({@link dev.ascendj.data.io.ConversationJson}) lives here too.
 */
package dev.ascendj.data.io;
