package dev.ascendj.data.eval;

import dev.ascendj.data.Entity;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;
import java.util.List;

/**
 * One example's entities or triples, gold or predicted, as scoring sees them: whitespace-normalised
 * and without repeats.
 *
 * @param id        the record's {@code id} field, or null
 * @param source    {@code file:line}
 * @param text      the sentence, or null when the record does not give it
 * @param malformed whether the record's answer had to be read with content lost (predictions only)
 * @param repeats   items given more than once (counted once)
 */
public record IeRecord(String id, String source, Task task, String text, List<Entity.Key> entities, List<Triple> triples,
                       boolean malformed, int repeats) {
    public IeRecord {
        entities = List.copyOf(entities);
        triples = List.copyOf(triples);
    }
}
