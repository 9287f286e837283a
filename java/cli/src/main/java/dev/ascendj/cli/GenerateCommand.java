package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.train.ModelSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj generate}: continue a prompt with a model (and adapter). */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text from a prompt, wrapped in the LLaMA2 instruction template unless --raw.",
        footer = {"", "Example:",
            "  ascendj generate --model runs/demo/base-model --adapter runs/demo/adapter \\",
            "      --prompt 'Extract all (head, relation, tail) triples from the text.' \\",
            "      --input 'Ada Brook was born in Harlow.'"})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory.")
    String model;
    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory.")
    Path adapter;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the model directory's).")
    Path tokenizer;
    @Option(names = "--prompt", required = true, description = "The instruction (or, with --raw, the whole text).")
    String prompt;
    @Option(names = "--input", defaultValue = "", description = "The instruction's input text.")
    String input;
    @Option(names = "--raw", description = "Do not apply the prompt template.")
    boolean raw;
    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).") int maxNewTokens;
    @Mixin
    SamplingOptions sampling;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the sampling (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--json", description = "Print prompt and generated token ids and text as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        Generator.Options options = sampling.options(maxNewTokens, seed);
        try (LlamaTokenizer tok = ModelSource.tokenizer(model, tokenizer);
             LlamaModel m = ModelSource.load(model, adapter, null, device, 0)) {
            ModelSource.checkVocabulary(m.config(), tok);
            int[] promptIds = raw ? tok.encode(prompt, true) : PromptTemplate.llama2().encodePrompt(tok, prompt, input);
            Generator g = new Generator(m, ops, tok.vocabSize(), Generator.defaultEngine(m), threads.count());
            int[] ids = g.generate(promptIds, tok.eosId(), options);
            String text = tok.decode(ids, true);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode n = mapper.createObjectNode();
                n.put("prompt", tok.decode(promptIds, false));
                n.set("promptIds", mapper.valueToTree(promptIds));
                n.set("generatedIds", mapper.valueToTree(ids));
                n.put("text", text);
                n.put("decoder", g.describe());
                out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(n));
            } else {
                out.println(text.strip());
            }
            out.flush();
        }
        return 0;
    }
}
