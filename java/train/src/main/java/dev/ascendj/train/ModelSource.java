package dev.ascendj.train;

import dev.ascendj.core.Device;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.quant.Nf4Quantizer;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a model comes from, as the CLI takes it: a preset name (weights initialised from the
 * seed) or a Hugging Face model directory, optionally with a PEFT adapter directory, plus the
 * tokenizer (given explicitly, or the model directory's {@code tokenizer.json}).
 */
public final class ModelSource {
    private ModelSource() {
    }

    /** Whether {@code spec} names a model directory (rather than a preset). */
    public static boolean isDirectory(String spec) {
        return Files.isDirectory(Path.of(spec));
    }

    /**
     * Name of the config an adapter directory carries when its adapter was trained with position
     * interpolation: the base's config.json with the {@code rope_scaling} and extended
     * {@code max_position_embeddings} of training, applied when the adapter is loaded.
     */
    public static final String ADAPTER_MODEL_CONFIG = "config.json";

    /**
     * Loads or initialises the model. With {@code adapterDir} the adapter's LoRA settings and
     * weights are applied (and {@code lora} must be null); otherwise {@code lora}, if set, adds
     * fresh adapters for training.
     */
    public static LlamaModel load(String spec, Path adapterDir, LoraConfig lora, Device device, long seed) {
        return load(spec, adapterDir, lora, device, seed, null, null);
    }

    /**
     * As {@link #load(String, Path, LoraConfig, Device, long)}, for QLoRA and position interpolation.
     *
     * @param quantizer  when not null, a dense base has its linear layers quantized to NF4 while it
     *                   loads (a directory written by {@code ascendj quantize} is NF4 already)
     * @param ropeFactor when not null, the linear position-interpolation factor to apply
     *                   ({@link LlamaConfig#withPositionInterpolation}); when null, the RoPE scaling
     *                   of the adapter's {@code config.json}, if it has one, else the model's own
     */
    public static LlamaModel load(String spec, Path adapterDir, LoraConfig lora, Device device, long seed,
                                  Nf4Quantizer quantizer, Double ropeFactor) {
        LoraConfig effective = lora;
        if (adapterDir != null) {
            if (lora != null) {
                throw new IllegalArgumentException("give either an adapter to load or LoRA settings to train, not both");
            }
            effective = ModelFiles.readAdapterConfig(adapterDir);
        }
        LlamaModel model;
        if (isDirectory(spec)) {
            model = ModelFiles.load(Path.of(spec), device, effective, seed, quantizer);
        } else {
            LlamaConfig config = LlamaConfigs.resolve(spec);
            model = LlamaModel.initialize(config, device, seed, effective, quantizer);
        }
        try {
            LlamaConfig wanted = ropeConfig(model.config(), adapterDir, ropeFactor);
            if (!wanted.equals(model.config())) {
                model = model.reconfigured(wanted);
            }
            if (adapterDir != null) {
                ModelFiles.loadAdapterWeights(model, adapterDir);
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** The config with the requested, or the adapter's, position interpolation. */
    private static LlamaConfig ropeConfig(LlamaConfig base, Path adapterDir, Double ropeFactor) {
        if (ropeFactor != null) {
            return base.withPositionInterpolation(ropeFactor);
        }
        if (adapterDir != null && Files.isRegularFile(adapterDir.resolve(ADAPTER_MODEL_CONFIG))) {
            LlamaConfig trained = LlamaConfigs.read(adapterDir.resolve(ADAPTER_MODEL_CONFIG));
            if (!trained.sameShapeAs(base)) {
                throw new IllegalArgumentException("adapter " + adapterDir + " was trained on a model of another shape ("
                        + adapterDir.resolve(ADAPTER_MODEL_CONFIG) + " does not match the base's config)");
            }
            return base.withRopeScaling(trained.ropeScaling()).withMaxPositionEmbeddings(trained.maxPositionEmbeddings());
        }
        return base;
    }

    /** The tokenizer: {@code explicit} if given, else {@code tokenizer.json} in the model directory. */
    public static LlamaTokenizer tokenizer(String modelSpec, Path explicit) {
        return LlamaTokenizer.load(tokenizerFile(modelSpec, explicit));
    }

    /**
     * The tokenizer file: {@code explicit} if given, else {@code tokenizer.json} in the model
     * directory. Fails naming the problem: a {@code modelSpec} that is neither a directory nor a
     * preset (a mistyped path), a directory without a tokenizer, a preset without {@code explicit}.
     */
    public static Path tokenizerFile(String modelSpec, Path explicit) {
        if (!isDirectory(modelSpec) && !LlamaConfigs.PRESETS.contains(modelSpec)) {
            LlamaConfigs.resolve(modelSpec); // says what the argument is not (a preset, a directory...)
        }
        if (explicit != null) {
            Path file = Files.isDirectory(explicit) ? explicit.resolve(LlamaTokenizer.FILE_NAME) : explicit;
            if (!Files.isRegularFile(file)) {
                throw new dev.ascendj.model.io.FormatException(file, "no such tokenizer file");
            }
            return file;
        }
        if (isDirectory(modelSpec)) {
            Path t = Path.of(modelSpec).resolve(LlamaTokenizer.FILE_NAME);
            if (Files.isRegularFile(t)) {
                return t;
            }
            throw new IllegalArgumentException("model directory " + modelSpec + " has no " + LlamaTokenizer.FILE_NAME
                    + "; pass --tokenizer FILE");
        }
        if (LlamaConfigs.PRESETS.contains(modelSpec)) {
            throw new IllegalArgumentException("model '" + modelSpec + "' is a preset, which has no tokenizer; pass"
                    + " --tokenizer FILE (for example examples/tokenizer/tokenizer.json)");
        }
        throw new IllegalArgumentException("model '" + modelSpec + "' is not a model directory; pass --tokenizer FILE");
    }

    /** Checks that every id the tokenizer can produce has a row in the model's embedding. */
    public static void checkVocabulary(LlamaConfig config, LlamaTokenizer tokenizer) {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's vocab_size is " + config.vocabSize());
        }
    }
}
