package dev.ascendj.data.io;

import dev.ascendj.data.KgSample;
import java.nio.file.Path;
import java.util.List;

/** The input formats, with the names used in configs and on the command line. */
public enum SourceFormat {
    /** Span-annotated NER JSON (CLUENER-style {@code label} map, or an {@code entities} list). */
    NER_JSON("ner-json"),
    /** Token-per-line CoNLL with BIO or BIOES tags in the last column. */
    CONLL("conll"),
    /** Relation JSON: {@code text} and a list of subject/predicate/object records. */
    RELATION_JSON("relation-json"),
    /** AscendJ/alpaca instruction JSONL: {@code instruction}, {@code input}, {@code output}, task, domain. */
    INSTRUCTION("instruction");

    private final String id;

    SourceFormat(String id) {
        this.id = id;
    }

    /** The config name. */
    public String id() {
        return id;
    }

    /** Parses a config name. */
    public static SourceFormat parse(String s) {
        for (SourceFormat f : values()) {
            if (f.id.equalsIgnoreCase(s == null ? "" : s.strip())) {
                return f;
            }
        }
        throw new IllegalArgumentException("format must be one of ner-json, conll, relation-json, instruction; got '"
                + s + "'");
    }

    /** Reads {@code file} in this format. */
    public List<KgSample> read(Path file, ImportOptions options, BadRecords bad) {
        return switch (this) {
            case NER_JSON -> SpanNerImporter.read(file, options, bad);
            case CONLL -> ConllImporter.read(file, options, bad);
            case RELATION_JSON -> RelationJsonImporter.read(file, options, bad);
            case INSTRUCTION -> InstructionImporter.read(file, options, bad);
        };
    }

    @Override
    public String toString() {
        return id;
    }
}
