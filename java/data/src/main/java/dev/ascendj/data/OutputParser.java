package dev.ascendj.data;

import dev.ascendj.data.ParseResult.Kind;
import dev.ascendj.data.ParseResult.Problem;
import java.util.Locale;
import java.util.Set;

/**
 * Reads entities or triples back from a model's answer, written in {@link OutputFormat}'s syntax
 * or something near it. Models add chatter, cut lists short, use the wrong brackets or Chinese
 * punctuation, and repeat themselves; the parser keeps what it can, drops what it cannot read,
 * and lists each case as a {@link ParseResult.Problem}. It never throws.
 *
 * <p>Full-width punctuation (：；，（）【】) is read as its ASCII form; values are taken from the
 * answer as written. The sentence, when given, settles ambiguous cases: which colon ends the
 * type, whether {@code person: A, B} is one entity or two, and where the element boundaries of a
 * triple with commas in its names lie. The schema, when given, tells types from chatter.
 *
 * <pre>{@code
 * ParseResult r = OutputParser.parse(Task.RTE, "Sure! (Ada, born in, Harlow); (Ada, works",
 *         new OutputParser.Context("Ada was born in Harlow.", Schema.NONE, false));
 * r.triples();    // [(Ada, born in, Harlow)]
 * r.problems();   // [extra-text: Sure!, unclosed (dropped): (Ada, works]
 * }</pre>
 */
public final class OutputParser {
    private static final Set<String> NONE_WORDS = Set.of("none", "no entities", "no entity", "no triples", "no triple",
            "n/a", "nothing", "null", "empty", "[]", "{}", "无", "没有", "空", "无实体", "无三元组", "无关系");

    /**
     * What the parser may know besides the answer.
     *
     * @param text      the sentence the answer is about, or null
     * @param schema    the declared types and relations ({@link Schema#NONE} for none)
     * @param truncated whether generation stopped at the token limit (so the last item may be cut)
     */
    public record Context(String text, Schema schema, boolean truncated) {
        public Context {
            schema = schema == null ? Schema.NONE : schema;
        }

        /** Nothing known. */
        public static final Context NONE = new Context(null, Schema.NONE, false);
    }

    private OutputParser() {
    }

    /** Parses {@code output} as the answer of {@code task}. */
    public static ParseResult parse(Task task, String output, Context ctx) {
        AnswerReader r = task == Task.NER ? new EntityReader(output, ctx) : new TripleReader(output, ctx);
        try {
            r.run();
        } catch (RuntimeException e) {
            // A reader bug must not abort a whole evaluation; the answer is reported as unreadable.
            r.entities.clear();
            r.triples.clear();
            r.problems.add(new Problem(Kind.PARSER_ERROR, r.original + " [" + e + "]", true));
        }
        return r.result();
    }

    /** Parses an answer with nothing else known. */
    public static ParseResult parse(Task task, String output) {
        return parse(task, output, Context.NONE);
    }

    /** Whether {@code output} says "nothing found" (none, 无, [] ...). */
    public static boolean isNone(String output) {
        String s = output == null ? "" : AnswerReader.stripEnd(TextNorm.space(output)).toLowerCase(Locale.ROOT);
        return s.isEmpty() || NONE_WORDS.contains(s);
    }
}
