package dev.ascendj.data.prepare;

import java.util.Locale;

/** Why {@code data prepare} left an example out. */
public enum Reason {
    /** The record could not be read (only with skip-bad; otherwise the run stops). */
    BAD_RECORD,
    /** An instruction record whose answer the parser cannot read completely. */
    UNPARSEABLE_OUTPUT,
    /** An entity whose text does not occur in the sentence. */
    ENTITY_NOT_IN_TEXT,
    /** An entity whose offsets do not cover its text. */
    OFFSET_MISMATCH,
    /** An entity type outside the domain's schema. */
    UNKNOWN_ENTITY_TYPE,
    /** A triple whose head or tail does not occur in the sentence. */
    TRIPLE_NOT_IN_TEXT,
    /** A relation outside the domain's schema. */
    UNKNOWN_RELATION,
    /** NER/RTE confusion: an RTE example whose answer holds no triples. */
    RTE_WITHOUT_TRIPLES,
    /** NER/RTE confusion: an NER example whose answer holds triples. */
    NER_WITH_TRIPLES,
    /** NER/RTE confusion: the instruction asks for the other task than the record's {@code task}. */
    INSTRUCTION_TASK_MISMATCH,
    /** An entity or triple element that the canonical syntax cannot carry (it would not read back the same). */
    UNREPRESENTABLE,
    /** The sentence is shorter than {@code filters.minTextChars}. */
    TEXT_TOO_SHORT,
    /** The sentence is longer than {@code filters.maxTextChars}. */
    TEXT_TOO_LONG,
    /** The answer is longer than {@code filters.maxOutputChars}. */
    OUTPUT_TOO_LONG,
    /** Prompt and answer exceed {@code filters.maxTokens} tokens. */
    TOO_MANY_TOKENS,
    /** Same task and (normalised) sentence as an earlier example, same answer. */
    EXACT_DUPLICATE,
    /** Same task and sentence as an earlier example, but a different answer (the earlier one is kept). */
    CONFLICTING_DUPLICATE,
    /** A MinHash near-duplicate of an earlier example of the same task. */
    NEAR_DUPLICATE,
    /** No mix group takes the example's task and domain. */
    NOT_IN_MIX,
    /** The example's mix group was full. */
    MIX_SURPLUS;

    /** The lower-case, dashed name used in reports. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
