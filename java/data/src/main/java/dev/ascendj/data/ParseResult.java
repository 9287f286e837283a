package dev.ascendj.data;

import java.util.List;

/**
 * What {@link OutputParser} read from one model answer: the entities or triples, and every
 * problem it met on the way (nothing is thrown).
 */
public record ParseResult(List<Entity> entities, List<Triple> triples, List<Problem> problems) {
    public ParseResult {
        entities = List.copyOf(entities);
        triples = List.copyOf(triples);
        problems = List.copyOf(problems);
    }

    /** No fragment of the answer was lost (flags such as text outside the list may still be present). */
    public boolean wellFormed() {
        return problems.stream().noneMatch(Problem::dropped);
    }

    /** The answer was exactly in the canonical syntax, with nothing to repair or flag. */
    public boolean canonical() {
        return problems.isEmpty();
    }

    /** Kinds of trouble in an answer. */
    public enum Kind {
        /** Text around the answer that holds no item (ignored). */
        EXTRA_TEXT,
        /** An entity without a type (dropped). */
        MISSING_TYPE,
        /** A type or triple element with nothing in it (dropped). */
        EMPTY_VALUE,
        /** Several entities after one type, {@code person: A, B} (split). */
        LIST_VALUE,
        /** An entity, head or tail that does not occur in the sentence (kept). */
        NOT_IN_TEXT,
        /** An entity type outside the schema (kept). */
        UNKNOWN_TYPE,
        /** A relation outside the schema (kept). */
        UNKNOWN_RELATION,
        /** An item given twice (the repeat removed). */
        DUPLICATE,
        /** The last item of an answer cut off by the token limit (dropped). */
        TRUNCATED,
        /** A triple without its closing bracket (kept if it has three elements, else dropped). */
        UNCLOSED,
        /** A triple in square or curly brackets, or with mismatched ones (kept). */
        WRONG_BRACKETS,
        /** A triple without brackets, {@code a, r, b} (kept). */
        UNBRACKETED,
        /** A triple with commas inside an element, resolved against the sentence (kept) or not (dropped). */
        AMBIGUOUS_COMMAS,
        /** A bracketed group without exactly three elements (dropped). */
        WRONG_ARITY,
        /** Answer given as JSON rather than in the canonical syntax (read). */
        JSON,
        /** A non-empty answer in which nothing could be read (dropped). */
        NOTHING_FOUND,
        /** The parser itself failed on this answer (dropped); a bug, reported rather than thrown. */
        PARSER_ERROR;

        /** The lower-case, dashed name used in JSON. */
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * One problem: its kind, the fragment of the answer it concerns, and whether content was lost
     * ({@code dropped}) rather than repaired or merely flagged.
     */
    public record Problem(Kind kind, String fragment, boolean dropped) {
        @Override
        public String toString() {
            return kind.id() + (dropped ? " (dropped)" : "") + ": " + fragment;
        }
    }
}
