package dev.ascendj.train;

import dev.ascendj.core.Device;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.layers.LoraConfig;
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
     * Loads or initialises the model. With {@code adapterDir} the adapter's LoRA settings and
     * weights are applied (and {@code lora} must be null); otherwise {@code lora}, if set, adds
     * fresh adapters for training.
     */
    public static LlamaModel load(String spec, Path adapterDir, LoraConfig lora, Device device, long seed) {
        LoraConfig effective = lora;
        if (adapterDir != null) {
            if (lora != null) {
                throw new IllegalArgumentException("give either an adapter to load or LoRA settings to train, not both");
            }
            effective = ModelFiles.readAdapterConfig(adapterDir);
        }
        LlamaModel model;
        if (isDirectory(spec)) {
            model = ModelFiles.load(Path.of(spec), device, effective, seed);
        } else {
            LlamaConfig config = LlamaConfigs.resolve(spec);
            model = LlamaModel.initialize(config, device, seed, effective);
        }
        if (adapterDir != null) {
            try {
                ModelFiles.loadAdapterWeights(model, adapterDir);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
        return model;
    }

    /** The tokenizer: {@code explicit} if given, else {@code tokenizer.json} in the model directory. */
    public static LlamaTokenizer tokenizer(String modelSpec, Path explicit) {
        if (explicit != null) {
            return LlamaTokenizer.load(explicit);
        }
        if (isDirectory(modelSpec)) {
            Path t = Path.of(modelSpec).resolve(LlamaTokenizer.FILE_NAME);
            if (Files.isRegularFile(t)) {
                return LlamaTokenizer.load(t);
            }
            throw new IllegalArgumentException("model directory " + modelSpec + " has no " + LlamaTokenizer.FILE_NAME
                    + "; pass --tokenizer FILE");
        }
        throw new IllegalArgumentException("model '" + modelSpec + "' is a preset without a tokenizer; pass --tokenizer FILE"
                + " (for example examples/tokenizer/tokenizer.json)");
    }

    /** Checks that every id the tokenizer can produce has a row in the model's embedding. */
    public static void checkVocabulary(LlamaConfig config, LlamaTokenizer tokenizer) {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's vocab_size is " + config.vocabSize());
        }
    }
}
