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
import java.util.List;

/**
 * Extracts entities or triples from sentences with a model: the sentence goes into the LLaMA2
 * prompt under the task's instruction ({@link InstructionTemplates#first} for its language and
 * the schema, unless one is given), the model decodes (greedily by default), and
 * {@link OutputParser} reads the answer. Model trouble never throws: a prompt too long for the
 * model, an answer cut at the token limit or an unreadable answer are reported in the
 * {@link Extraction}.
 *
 * <pre>{@code
 * Extractor x = new Extractor(model, ops, tokenizer, Generator.Options.greedy(96));
 * Extraction e = x.extract(null, Task.RTE, "Ada Brook was born in Harlow.", null, Schema.NONE);
 * e.parsed().triples();
 * }</pre>
 */
public final class Extractor {
    private final LlamaModel model;
    private final LlamaTokenizer tokenizer;
    private final Generator generator;
    private final Generator.Options options;
    private final PromptTemplate template = PromptTemplate.llama2();

    public Extractor(LlamaModel model, Ops ops, LlamaTokenizer tokenizer, Generator.Options options) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.generator = new Generator(model, ops, tokenizer.vocabSize());
        this.options = options;
    }

    /**
     * Extracts from one sentence.
     *
     * @param instruction the instruction to use, or null for the task's template
     */
    public Extraction extract(String id, Task task, String text, String instruction, Schema schema) {
        String ins = instruction != null ? instruction : InstructionTemplates.first(task, TextNorm.language(text), schema);
        int[] prompt = template.encodePrompt(tokenizer, ins, text);
        long limit = model.config().maxSequenceLength();
        if (prompt.length + options.maxNewTokens() > limit) {
            String error = "prompt of " + prompt.length + " tokens plus " + options.maxNewTokens()
                    + " new ones exceeds the model's " + limit + " positions";
            return new Extraction(id, task, text, ins, "", false,
                    new ParseResult(List.of(), List.of(), List.of(new ParseResult.Problem(ParseResult.Kind.NOTHING_FOUND,
                            "", true))), error);
        }
        int[] ids = generator.generate(prompt, tokenizer.eosId(), options);
        boolean ended = ids.length > 0 && ids[ids.length - 1] == tokenizer.eosId();
        boolean truncated = !ended && ids.length >= options.maxNewTokens();
        String answer = tokenizer.decode(ids, true).strip();
        ParseResult parsed = OutputParser.parse(task, answer, new OutputParser.Context(text, schema, truncated));
        return new Extraction(id, task, text, ins, answer, truncated, parsed, null);
    }
}
