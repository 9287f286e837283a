package dev.ascendj.cli;

import dev.ascendj.bench.GenerateBench;
import dev.ascendj.core.DType;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj bench generate}: decoding and prefill tokens/s of the fast decoder. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Tokens/s of generation with the fast decoder on random weights, decoding and prefill apart:"
                + " the llama2-15m shape (llama2.c's stories15M: prompt, then greedy or sampled decoding to position"
                + " 256) and one LLaMA2-7B-shaped decoder layer (memory-bound: its weight bytes per second against the"
                + " measured memory read bandwidth).",
            "Decoding counts new tokens of all sequences of the batch; the figure is the median of --runs runs."},
        footer = {"", "Examples:",
            "  ascendj bench generate --threads 1 --json",
            "  ascendj bench generate --batch 16 --shapes llama2-15m",
            "  ascendj bench generate --shapes llama2-15m --temperature 0.8 --top-p 0.95"})
final class BenchGenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--batch", defaultValue = "1", description = "Sequences decoded together (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--threads", paramLabel = "N", description = "Decoder threads (default: all cores).")
    Integer threads;
    @Option(names = "--dtype", defaultValue = "fp32",
            description = "Weight storage: fp32, fp16, bf16 or nf4 (the layers' linear weights) (default ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--shapes", split = ",", defaultValue = "llama2-15m,7b-layer",
            description = "Which of llama2-15m, 7b-layer (default ${DEFAULT-VALUE}).")
    List<String> shapes;
    @Option(names = "--prompt", defaultValue = "16",
            description = "Prompt tokens per sequence; llama2-15m then decodes to position 256 (default ${DEFAULT-VALUE}).")
    int prompt;
    @Option(names = "--layer-steps", defaultValue = "32",
            description = "Decoding steps of the 7B-shaped layer per run (default ${DEFAULT-VALUE}).")
    int layerSteps;
    @Option(names = "--runs", defaultValue = "3", description = "Timed runs; the median is reported (default ${DEFAULT-VALUE}).")
    int runs;
    @Mixin
    SamplingOptions sampling;
    @Option(names = "--compare", description = "Also decode llama2-15m with the kernel engine (the model's forward pass).")
    boolean compare;
    @Option(names = "--scalar", description = "Use the scalar decode kernels (the fallback without the Vector API).")
    boolean scalar;
    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        GenerateBench.Config cfg = new GenerateBench.Config(shapes, batch, t, DType.parse(dtype), prompt, layerSteps,
                runs, compare, scalar, 42, sampling.temperature, sampling.topP);
        return BenchCommand.print(spec, new GenerateBench(cfg).run(), json);
    }
}
