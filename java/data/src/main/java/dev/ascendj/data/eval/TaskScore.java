package dev.ascendj.data.eval;

import dev.ascendj.data.Task;
import java.util.List;
import java.util.Map;

/**
 * The score of one task over a set of examples.
 *
 * @param micro        counts pooled over all items
 * @param macroP       mean precision over the types (entity types or relations) in gold or predictions
 * @param macroR       mean recall over the same types
 * @param macroF1      mean F1 over the same types (not the F1 of macroP and macroR)
 * @param perType      counts per type, in name order
 * @param errors       kinds of error, most frequent first
 * @param malformed    predictions whose answer lost content when read
 * @param repeats      repeated predicted items (counted once)
 */
public record TaskScore(Task task, int examples, Prf micro, double macroP, double macroR, double macroF1,
                        Map<String, Prf> perType, List<ErrorCount> errors, int malformed, int repeats) {
    /**
     * One kind of error and how often it occurred, with a first example.
     *
     * @param kind    wrong-type, boundary, wrong-type-and-boundary, spurious, missed (NER);
     *                wrong-relation, reversed, wrong-head, wrong-tail, spurious, missed (RTE)
     * @param detail  for example {@code location -> organization}
     * @param example the sentence, gold item and predicted item of the first occurrence
     */
    public record ErrorCount(String kind, String detail, int count, String example) {
    }
}
