package dev.ascendj.cli;

import dev.ascendj.core.Backends;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.train.parallel.FullWeights;
import dev.ascendj.train.parallel.ParallelTrainer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ascendj consolidate}: a distributed checkpoint of a parallel run (one file per rank) to a
 * single Hugging Face checkpoint, without resuming the run: the shards of every stage and
 * tensor-parallel rank are joined, the model and LoRA configuration come from the checkpoint's
 * manifest.
 */
@Command(name = "consolidate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Join a distributed checkpoint of a parallel run ('finetune --plan') into one Hugging Face"
                + " checkpoint: model.safetensors and config.json. A LoRA run's adapters are merged into the base"
                + " weights, or kept as a PEFT adapter beside its base with --keep-adapter."},
        footer = {"", "Example:",
            "  ascendj consolidate --checkpoints runs/parallel/checkpoints --out runs/parallel/consolidated \\",
            "      --tokenizer examples/tokenizer/tokenizer.json"})
final class ConsolidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--checkpoints", required = true, paramLabel = "DIR",
            description = "The run's checkpoint directory (OUT/checkpoints of 'finetune --plan').")
    Path checkpoints;
    @Option(names = "--step", paramLabel = "N", description = "The step to consolidate (default: the newest complete one).")
    Long step;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
    Path out;
    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "A tokenizer.json to copy beside the weights, so the directory is a complete model.")
    Path tokenizer;
    @Option(names = "--keep-adapter",
            description = "For a LoRA run: write the base model to OUT/base-model and the adapter (PEFT) to OUT/adapter"
                    + " instead of merging.")
    boolean keepAdapter;
    @Option(names = "--dtype", defaultValue = "fp32", paramLabel = "DTYPE",
            description = "Storage of the written weights: fp32, bf16 or fp16 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() throws Exception {
        DType storage;
        try {
            storage = DType.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--dtype: " + e.getMessage());
        }
        if (!storage.isFloatingPoint()) {
            throw new ParameterException(spec.commandLine(), "--dtype must be fp32, bf16 or fp16, got " + dtype);
        }
        if (!Files.isDirectory(checkpoints)) {
            throw new ParameterException(spec.commandLine(), "--checkpoints: no such directory: " + checkpoints);
        }
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) {
            throw new ParameterException(spec.commandLine(), "--tokenizer: no such file: " + tokenizer);
        }
        ParallelTrainer.CheckpointInfo info = ParallelTrainer.checkpoint(checkpoints,
                step == null ? OptionalLong.empty() : OptionalLong.of(step));
        if (keepAdapter && info.lora() == null) {
            throw new ParameterException(spec.commandLine(), "--keep-adapter: " + info.path()
                    + " is a full fine-tuning checkpoint; it has no adapter");
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf("%s: step %d, written with %s, %s%n", info.path(), info.step(), info.layout().describe(),
                info.lora() == null ? "full fine-tuning" : "LoRA rank " + info.lora().rank());
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        // A model of the checkpoint's configuration gives the shapes; its initial values are replaced.
        try (LlamaModel m = LlamaModel.initialize(info.model(), device, 0, info.lora())) {
            FullWeights full = ParallelTrainer.consolidate(info, FullWeights.of(m));
            for (Parameter p : m.parameters().values()) {
                p.value().copyFrom(full.get(p.name()).data());
            }
            Path written;
            if (info.lora() != null && keepAdapter) {
                Path base = out.resolve("base-model");
                ModelFiles.save(m, base, storage);
                copyTokenizer(base);
                written = out.resolve("adapter");
                ModelFiles.saveAdapter(m, written, base.toAbsolutePath().toString());
            } else {
                ModelFiles.mergeAdapters(m, ops);
                ModelFiles.save(m, out, storage);
                copyTokenizer(out);
                written = out;
            }
            o.printf("wrote %s (%s%s)%n", written, storage.name().toLowerCase(java.util.Locale.ROOT),
                    info.lora() == null ? "" : keepAdapter ? ", adapter beside its base" : ", adapters merged");
            o.flush();
        }
        return 0;
    }

    private void copyTokenizer(Path dir) throws java.io.IOException {
        if (tokenizer != null) {
            TokenizerFiles.copyInto(tokenizer, dir);
        }
    }
}
