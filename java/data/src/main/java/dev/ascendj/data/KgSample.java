package dev.ascendj.data;

import java.util.List;
import java.util.Objects;

/**
 * One knowledge-graph example as imported: the sentence, its task and domain, and its gold
 * entities or triples. {@code instruction} and {@code output} are set only when the example came
 * from instruction data that already had them (then {@code output} is the original answer and
 * the entities or triples are what {@link OutputParser} read from it); otherwise an instruction
 * is chosen from {@link InstructionTemplates} and the output is written by {@link OutputFormat}.
 *
 * @param id       where the example came from, {@code file:line}
 * @param language {@code en} or {@code zh}
 */
public record KgSample(String id, Task task, String domain, String language, String text, List<Entity> entities,
                       List<Triple> triples, String instruction, String output) {
    public KgSample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(language, "language");
        Objects.requireNonNull(text, "text");
        entities = List.copyOf(entities);
        triples = List.copyOf(triples);
    }

    /** A structured example (no fixed instruction or output). */
    public static KgSample of(String id, Task task, String domain, String text, List<Entity> entities,
                              List<Triple> triples) {
        return new KgSample(id, task, domain, TextNorm.language(text), text, entities, triples, null, null);
    }

    /** A copy with another domain. */
    public KgSample withDomain(String d) {
        return new KgSample(id, task, d, language, text, entities, triples, instruction, output);
    }

    /** A copy without the fixed instruction and output (so that templates and the canonical syntax are used). */
    public KgSample structured() {
        return new KgSample(id, task, domain, language, text, entities, triples, null, null);
    }
}
