package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.LossSum;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.train.Evaluator;
import dev.ascendj.train.ModelSource;
import dev.ascendj.train.data.InstructionRecord;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj evaluate}: mean next-token loss and perplexity. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Mean next-token loss and perplexity over instruction data (response tokens) or plain text.")
final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Mixin
    RopeOptions rope;
    @Option(names = "--nf4", description = "Quantize a dense base to NF4 on load, as QLoRA trained on it.")
    boolean nf4;
    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET") String model;
    @Option(names = "--adapter", paramLabel = "DIR") Path adapter;
    @Option(names = "--tokenizer", paramLabel = "FILE") Path tokenizer;

    static final class Source {
        @Option(names = "--data", paramLabel = "FILE.jsonl", description = "Instruction data: loss on response tokens.")
        Path data;
        @Option(names = "--text", paramLabel = "FILE", description = "Plain text: loss on every token.")
        Path text;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--seq-len", defaultValue = "256") int seqLen;
    @Option(names = "--seed", defaultValue = "0", description = "Seed for a preset's initial weights.") long seed;
    @Option(names = "--json") boolean json;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        try (LlamaTokenizer tok = ModelSource.tokenizer(model, tokenizer);
             LlamaModel m = ModelSource.load(model, adapter, null, device, seed,
                     nf4 ? new dev.ascendj.model.quant.Nf4Quantizer(ops) : null, rope.factor(spec.commandLine()))) {
            ModelSource.checkVocabulary(m.config(), tok);
            Evaluator ev = new Evaluator(m, ops);
            LossSum loss = source.data != null
                    ? ev.instructions(InstructionRecord.readJsonl(source.data), tok, PromptTemplate.llama2(), seqLen)
                    : ev.text(Files.readString(source.text, StandardCharsets.UTF_8), tok, seqLen);
            PrintWriter out = spec.commandLine().getOut();
            double ppl = Math.exp(loss.mean());
            if (json) {
                ObjectNode n = new ObjectMapper().createObjectNode();
                n.put("loss", loss.mean());
                n.put("perplexity", ppl);
                n.put("tokens", loss.tokens());
                out.println(n.toPrettyString());
            } else {
                out.printf("loss %.4f  perplexity %.3f  over %,d tokens%n", loss.mean(), ppl, loss.tokens());
            }
            out.flush();
        }
        return 0;
    }
}
