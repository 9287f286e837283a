package dev.ascendj.cli;

import dev.ascendj.core.Backends;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.Nf4Footprint;
import dev.ascendj.model.quant.Nf4Quantizer;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.train.ModelSource;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj quantize}: a Hugging Face model directory (or preset) to a QLoRA base in NF4. */
@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Quantize the linear layers of a LLaMA2 model to NF4 with double quantization (QLoRA), once,"
                + " for 'finetune --method qlora', 'evaluate' and 'generate'. Embedding, norms and LM head stay"
                + " 16-bit. Weights are read and quantized one tensor at a time."},
        footer = {"", "Example:",
            "  ascendj quantize --model llama-2-7b-hf --out llama-2-7b-nf4"})
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--model", required = true, paramLabel = "DIR|PRESET",
            description = "A Hugging Face model directory, or a preset initialised from --seed.")
    String model;
    @Option(names = "--out", paramLabel = "DIR", description = "Output model directory (required unless --estimate).")
    Path out;
    @Option(names = "--estimate",
            description = "Only print the predicted size of the quantized model from its config (no weights are read).")
    boolean estimate;
    @Option(names = "--dtype", defaultValue = "bf16",
            description = "Storage of the weights that stay unquantized: bf16, fp16 or fp32 (default ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of a preset's initial weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        DType keep;
        try {
            keep = DType.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--dtype: " + e.getMessage());
        }
        if (!keep.isFloatingPoint()) {
            throw new ParameterException(spec.commandLine(), "--dtype must be bf16, fp16 or fp32, got " + dtype);
        }
        if (ModelSource.isDirectory(model) && Files.exists(out) && Files.isSameFile(Path.of(model), out)) {
            throw new ParameterException(spec.commandLine(), "--out must differ from --model");
        }
        PrintWriter o = spec.commandLine().getOut();
        if (estimate) {
            Nf4Footprint f = Nf4Footprint.predict(LlamaConfigs.resolve(model));
            o.printf("%s quantized: %,d parameters of the linear layers in %,d bytes (%.4f bytes per parameter);"
                    + " %,d other parameters in %,d bytes at 16 bits; %,d bytes (%.2f GiB) in all%n", model,
                    f.quantizedParameters(), f.quantizedBytes(), f.bytesPerQuantizedParameter(), f.otherParameters(),
                    f.otherBytes(), f.totalBytes(), f.totalBytes() / (double) (1L << 30));
            o.flush();
            return 0;
        }
        if (out == null) {
            throw new ParameterException(spec.commandLine(), "--out DIR is required (or use --estimate)");
        }
        Device device = Backends.get("cpu").device(0);
        Ops ops = Backends.get("cpu").ops(device);
        long t0 = System.nanoTime();
        try (LlamaModel m = ModelSource.load(model, null, null, device, seed, new Nf4Quantizer(ops), null)) {
            ModelFiles.save(m, out, keep);
            copyTokenizer(out);
            Nf4Footprint f = Nf4Footprint.measure(m);
            long onDisk;
            try (Checkpoint ck = Checkpoint.open(out)) {
                onDisk = ck.dataBytes();
            }
            o.printf("quantized %d linear weights of %s: %,d parameters in %,d bytes (%.4f bytes per parameter)%n",
                    m.quantizedWeights().size(), model, f.quantizedParameters(), f.quantizedBytes(),
                    f.bytesPerQuantizedParameter());
            o.printf("kept in %s: %,d parameters (embedding, norms, LM head)%n", keep, f.otherParameters());
            o.printf("wrote %s: %,d bytes of tensors (%.1f MiB) in %.1f s%n", out, onDisk, onDisk / 1048576.0,
                    (System.nanoTime() - t0) / 1e9);
            o.flush();
        }
        return 0;
    }

    private void copyTokenizer(Path dir) throws java.io.IOException {
        if (!ModelSource.isDirectory(model)) {
            return;
        }
        for (String name : new String[] {LlamaTokenizer.FILE_NAME, LlamaTokenizer.CONFIG_NAME}) {
            Path src = Path.of(model).resolve(name);
            if (Files.isRegularFile(src)) {
                AtomicFiles.copy(src, dir.resolve(name));
            }
        }
    }
}
