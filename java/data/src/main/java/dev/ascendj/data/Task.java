package dev.ascendj.data;

import java.util.Locale;

/** The two extraction tasks of knowledge-graph construction. */
public enum Task {
    /** Named-entity recognition: (type, span text) pairs. */
    NER("ner"),
    /** Relation-triple extraction: (head, relation, tail) triples. */
    RTE("rte");

    private final String id;

    Task(String id) {
        this.id = id;
    }

    /** The name used in data files and on the command line: {@code ner} or {@code rte}. */
    public String id() {
        return id;
    }

    /**
     * Parses {@code ner} or {@code rte} (any case, surrounding blanks ignored).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Task parse(String s) {
        String v = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
        for (Task t : values()) {
            if (t.id.equals(v)) {
                return t;
            }
        }
        throw new IllegalArgumentException("task must be ner or rte, got '" + s + "'");
    }

    @Override
    public String toString() {
        return id;
    }
}
