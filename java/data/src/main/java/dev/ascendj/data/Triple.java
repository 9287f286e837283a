package dev.ascendj.data;

import java.util.Objects;

/** A relation triple (head, relation, tail); the head and tail are spans of the sentence, the relation a label. */
public record Triple(String head, String relation, String tail) {
    public Triple {
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(relation, "relation");
        Objects.requireNonNull(tail, "tail");
    }

    /** The triple with surrounding blanks removed and inner runs of whitespace collapsed: the scoring identity. */
    public Triple normalized() {
        return new Triple(TextNorm.space(head), TextNorm.space(relation), TextNorm.space(tail));
    }

    @Override
    public String toString() {
        return "(" + head + ", " + relation + ", " + tail + ")";
    }
}
