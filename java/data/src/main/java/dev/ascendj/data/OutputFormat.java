package dev.ascendj.data;

import java.util.List;
import java.util.StringJoiner;

/**
 * The canonical output syntax that AscendJ trains on and {@link OutputParser} reads back:
 *
 * <pre>
 * NER: person: Ada Brook; location: Harlow           type: text pairs, "; " between them
 * RTE: (Ada Brook, born in, Harlow); (Ada Brook, works for, Norell Labs)
 * </pre>
 *
 * ASCII punctuation in both languages; an example without entities or triples is answered
 * {@code none} (English) or {@code 无} (Chinese). Items keep their given order (the importers give
 * order of appearance in the sentence).
 */
public final class OutputFormat {
    /** The answer for "nothing found" in English. */
    public static final String NONE_EN = "none";
    /** The answer for "nothing found" in Chinese. */
    public static final String NONE_ZH = "无";

    private OutputFormat() {
    }

    /** {@code type: text; type: text}, or the language's "none". */
    public static String entities(List<Entity> entities, String language) {
        if (entities.isEmpty()) {
            return none(language);
        }
        StringJoiner j = new StringJoiner("; ");
        for (Entity e : entities) {
            j.add(TextNorm.space(e.type()) + ": " + TextNorm.space(e.text()));
        }
        return j.toString();
    }

    /** {@code (head, relation, tail); (...)}, or the language's "none". */
    public static String triples(List<Triple> triples, String language) {
        if (triples.isEmpty()) {
            return none(language);
        }
        StringJoiner j = new StringJoiner("; ");
        for (Triple t : triples) {
            Triple n = t.normalized();
            j.add("(" + n.head() + ", " + n.relation() + ", " + n.tail() + ")");
        }
        return j.toString();
    }

    /** The canonical answer of a sample for its task. */
    public static String output(KgSample s) {
        return s.task() == Task.NER ? entities(s.entities(), s.language()) : triples(s.triples(), s.language());
    }

    /** "none" for English, "无" for Chinese. */
    public static String none(String language) {
        return "zh".equals(language) ? NONE_ZH : NONE_EN;
    }
}
