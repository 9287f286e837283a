package dev.ascendj.data.extract;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.data.Entity;
import dev.ascendj.data.ParseResult;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;

/**
 * The result of extracting from one sentence: the prompt's instruction, what the model generated,
 * whether generation hit the token limit, and what the parser read from it.
 *
 * @param error     why nothing was generated (the prompt did not fit the model), or null
 * @param passage   where the text came from in a corpus file, or null for text given directly
 * @param newTokens tokens the model generated
 */
public record Extraction(String id, Task task, String text, String instruction, String generation, boolean truncated,
                         ParseResult parsed, String error, Passage passage, int newTokens) {
    /**
     * The JSON form written by {@code ascendj extract} and read by {@code eval-ie}: id (if any),
     * the place in the corpus (line; and for a record cut into passages, the passage index and its
     * start and end in the record's text), task, text, instruction, generation, entities (with
     * offsets in {@code text}) or triples, wellFormed, truncated, problems.
     */
    public ObjectNode toJson(ObjectMapper m) {
        ObjectNode n = m.createObjectNode();
        if (id != null) {
            n.put("id", id);
        }
        if (passage != null && passage.line() > 0) {
            n.put("line", passage.line());
            n.put("passage", passage.index());
            n.put("start", passage.start());
            n.put("end", passage.end());
        }
        n.put("task", task.id());
        n.put("text", text);
        n.put("instruction", instruction);
        n.put("generation", generation);
        if (task == Task.NER) {
            ArrayNode a = n.putArray("entities");
            for (Entity e : parsed.entities()) {
                ObjectNode o = a.addObject().put("type", e.type()).put("text", e.text());
                if (e.hasOffsets()) {
                    o.put("start", e.start()).put("end", e.end());
                }
            }
        } else {
            ArrayNode a = n.putArray("triples");
            for (Triple t : parsed.triples()) {
                a.addObject().put("head", t.head()).put("relation", t.relation()).put("tail", t.tail());
            }
        }
        n.put("wellFormed", error == null && parsed.wellFormed());
        n.put("truncated", truncated);
        ArrayNode p = n.putArray("problems");
        for (ParseResult.Problem pr : parsed.problems()) {
            p.addObject().put("kind", pr.kind().id()).put("fragment", pr.fragment()).put("dropped", pr.dropped());
        }
        if (error != null) {
            n.put("error", error);
        }
        return n;
    }
}
