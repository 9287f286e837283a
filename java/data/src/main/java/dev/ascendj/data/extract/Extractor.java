package dev.ascendj.data.extract;

import dev.ascendj.core.Ops;
import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.OutputParser;
import dev.ascendj.data.ParseResult;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.TextNorm;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Extracts entities or triples from sentences with a model: the sentence goes into the LLaMA2
 * prompt under the task's instruction ({@link InstructionTemplates#first} for its language and
 * the schema, unless one is given), the model decodes (greedily by default), and
 * {@link OutputParser} reads the answer. Model trouble never throws: a prompt too long for the
 * model, an answer cut at the token limit or an unreadable answer are reported in the
 * {@link Extraction}.
 *
 * <p>{@link #extractAll} runs a stream of passages through batched generation (continuous
 * batching, see {@link Generator#generateAll}) and hands the results over in input order; each
 * result is the one {@link #extract} gives for that passage alone.
 *
 * <pre>{@code
 * Extractor x = new Extractor(model, ops, tokenizer, Generator.Options.greedy(96));
 * Extraction e = x.extract(null, Task.RTE, "Ada Brook was born in Harlow.", null, Schema.NONE);
 * e.parsed().triples();
 * }</pre>
 */
public final class Extractor {
    /** One passage to extract from; {@code instruction} null means the task's template. */
    public record Job(Passage passage, Task task, String instruction, Schema schema) {
    }

    private final LlamaTokenizer tokenizer;
    private final Generator generator;
    private final Generator.Options options;
    private final long maxPositions;
    private final PromptTemplate template = PromptTemplate.llama2();

    /** An extractor with its own generator (the fast engine on a CPU model). */
    public Extractor(LlamaModel model, Ops ops, LlamaTokenizer tokenizer, Generator.Options options) {
        this(new Generator(model, ops, tokenizer.vocabSize()), tokenizer, options);
    }

    /** An extractor over {@code generator}, whose vocabulary limit must be the tokenizer's. */
    public Extractor(Generator generator, LlamaTokenizer tokenizer, Generator.Options options) {
        this.tokenizer = tokenizer;
        this.generator = generator;
        this.options = options;
        this.maxPositions = generator.config().maxSequenceLength();
    }

    /** The instruction a passage gets: {@code instruction}, or the task's template for the text's language and schema. */
    public static String instruction(Task task, String text, String instruction, Schema schema) {
        return instruction != null ? instruction : InstructionTemplates.first(task, TextNorm.language(text), schema);
    }

    /** Whether the prompt for {@code text} plus the answer's token budget fits the model's positions. */
    public boolean fits(Task task, String text, String instruction, Schema schema) {
        return prompt(instruction(task, text, instruction, schema), text).length + options.maxNewTokens() <= maxPositions;
    }

    private int[] prompt(String instruction, String text) {
        return template.encodePrompt(tokenizer, instruction, text);
    }

    /**
     * Extracts from one sentence.
     *
     * @param instruction the instruction to use, or null for the task's template
     */
    public Extraction extract(String id, Task task, String text, String instruction, Schema schema) {
        Extraction[] out = new Extraction[1];
        extractAll(List.of(new Job(Passage.of(id, text), task, instruction, schema)).iterator(), 1, e -> out[0] = e);
        return out[0];
    }

    /**
     * Extracts from every job with up to {@code batch} generations in flight, calling
     * {@code inOrder} with each result in the order of the jobs (results that finish early wait
     * for those before them).
     */
    public void extractAll(Iterator<Job> jobs, int batch, Consumer<Extraction> inOrder) {
        Ordered ordered = new Ordered(inOrder);
        Iterator<Generator.Request<Prepared>> requests = new Iterator<>() {
            private Generator.Request<Prepared> next;

            @Override
            public boolean hasNext() {
                while (next == null && jobs.hasNext()) {
                    long seq = ordered.issue();
                    Job j = jobs.next();
                    Passage p = j.passage();
                    String ins = instruction(j.task(), p.text(), j.instruction(), j.schema());
                    int[] prompt = prompt(ins, p.text());
                    if (prompt.length + options.maxNewTokens() > maxPositions) {
                        String error = "prompt of " + prompt.length + " tokens plus " + options.maxNewTokens()
                                + " new ones exceeds the model's " + maxPositions + " positions";
                        ordered.done(seq, new Extraction(p.id(), j.task(), p.text(), ins, "", false,
                                new ParseResult(List.of(), List.of(), List.of(new ParseResult.Problem(
                                        ParseResult.Kind.NOTHING_FOUND, "", true))), error, p, 0));
                    } else {
                        next = new Generator.Request<>(new Prepared(seq, j, ins), prompt);
                    }
                }
                return next != null;
            }

            @Override
            public Generator.Request<Prepared> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Generator.Request<Prepared> r = next;
                next = null;
                return r;
            }
        };
        generator.generateAll(requests, tokenizer.eosId(), options, batch,
                r -> ordered.done(r.tag().seq(), read(r.tag(), r.tokens())));
    }

    private record Prepared(long seq, Job job, String instruction) {
    }

    private Extraction read(Prepared p, int[] ids) {
        Job j = p.job();
        String text = j.passage().text();
        boolean ended = ids.length > 0 && ids[ids.length - 1] == tokenizer.eosId();
        boolean truncated = !ended && ids.length >= options.maxNewTokens();
        String answer = tokenizer.decode(ids, true).strip();
        ParseResult parsed = OutputParser.parse(j.task(), answer, new OutputParser.Context(text, j.schema(), truncated));
        return new Extraction(j.passage().id(), j.task(), text, p.instruction(), answer, truncated, parsed, null,
                j.passage(), ids.length);
    }

    /** Releases results in issue order. */
    private static final class Ordered {
        private final Consumer<Extraction> sink;
        private final TreeMap<Long, Extraction> waiting = new TreeMap<>();
        private long issued;
        private long released;

        Ordered(Consumer<Extraction> sink) {
            this.sink = sink;
        }

        long issue() {
            return issued++;
        }

        void done(long seq, Extraction e) {
            waiting.put(seq, e);
            while (!waiting.isEmpty() && waiting.firstKey() == released) {
                sink.accept(waiting.pollFirstEntry().getValue());
                released++;
            }
        }
    }
}
