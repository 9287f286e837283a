package dev.ascendj.model;

import dev.ascendj.core.io.AtomicFiles;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.layers.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.FormatException;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.quant.Nf4Quantizer;
import dev.ascendj.model.quant.QuantizedCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Model directories in Hugging Face layout: {@code config.json} plus {@code model.safetensors}
 * (or shards with an index), and LoRA adapters in PEFT's layout ({@code adapter_config.json} plus
 * {@code adapter_model.safetensors}, tensor names prefixed {@code base_model.model.}).
 * Every file is written atomically.
 */
public final class ModelFiles {
    /** PEFT's adapter weights file. */
    public static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";
    /** PEFT's adapter configuration file. */
    public static final String ADAPTER_CONFIG = "adapter_config.json";
    /** Prefix PEFT puts before base-model tensor names in adapter files. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** An adapter_config.json is a few hundred bytes; larger files are refused unread. */
    private static final long MAX_ADAPTER_CONFIG_BYTES = 1L << 20;

    private ModelFiles() {
    }

    /**
     * Writes {@code config.json} and the base weights (LoRA adapters excluded) in {@code dtype}.
     * The NF4 weights of a quantized model are written as they are, in the layout of
     * {@link QuantizedCheckpoint} (the other weights in {@code dtype}), and config.json gets a
     * {@code quantization_config} entry.
     */
    public static void save(LlamaModel model, Path dir, DType dtype) {
        save(model, dir, dtype, Long.MAX_VALUE);
    }

    /**
     * As {@link #save(LlamaModel, Path, DType)}, split into shards of at most {@code maxShardBytes}
     * of tensor data with a {@code model.safetensors.index.json}, as Hugging Face saves large
     * models (a single {@code model.safetensors} when everything fits in one shard).
     */
    public static void save(LlamaModel model, Path dir, DType dtype, long maxShardBytes) {
        mkdirs(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (Scope views = Scope.open()) {
            if (model.isQuantized()) {
                w.metadata(QuantizedCheckpoint.metadata());
            }
            for (Parameter p : model.parameters().values()) {
                if (p.name().contains(".lora_")) {
                    continue;
                }
                Nf4Weight q = model.quantizedWeights().get(p.name());
                if (q != null) {
                    QuantizedCheckpoint.add(w, p.name(), q);
                } else {
                    w.add(p.name(), p.value(), dtype);
                }
            }
            w.writeSharded(dir, maxShardBytes);
        }
        writeText(dir.resolve("config.json"), configJson(model));
    }

    /** config.json text for {@code model}, with a {@code quantization_config} when it is quantized. */
    private static String configJson(LlamaModel model) {
        String text = LlamaConfigs.toJson(model.config());
        if (!model.isQuantized()) {
            return text;
        }
        try {
            ObjectNode n = (ObjectNode) JSON.readTree(text);
            ObjectNode q = n.putObject("quantization_config");
            // Not a method transformers knows: it refuses the directory instead of misreading it.
            q.put("quant_method", "ascendj-" + QuantizedCheckpoint.METHOD);
            q.put("quant_type", "nf4");
            q.put("blocksize", dev.ascendj.core.Nf4.BLOCK_SIZE);
            q.put("double_quant", true);
            q.put("double_quant_blocksize", dev.ascendj.core.Nf4.ABSMAX_BLOCK_SIZE);
            ArrayNode mods = q.putArray("quantized_modules");
            LlamaConfig.LINEAR_NAMES.forEach(mods::add);
            return n.toPrettyString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Loads a model directory (config.json and weights) onto {@code device}, weights as FP32
     * master copies; adds fresh LoRA adapters when {@code lora} is set.
     *
     * @throws ModelConfigException naming config.json and the field when the config is invalid
     * @throws FormatException naming the weights file and the tensor when a tensor is missing,
     *     unexpected, of a shape the config does not give, or unreadable
     */
    public static LlamaModel load(Path dir, Device device, LoraConfig lora, long seed) {
        return load(dir, device, lora, seed, null);
    }

    /**
     * As {@link #load(Path, Device, LoraConfig, long)}, for QLoRA: a quantized directory (written by
     * {@code ascendj quantize}, see {@link QuantizedCheckpoint}) is loaded as it is stored, without
     * dequantizing anything; a dense one has its linear layers quantized by {@code quantizer}
     * one tensor at a time as they are read, when {@code quantizer} is not null.
     */
    public static LlamaModel load(Path dir, Device device, LoraConfig lora, long seed, Nf4Quantizer quantizer) {
        Path configFile = dir.resolve("config.json");
        LlamaConfig config = LlamaConfigs.read(configFile);
        try (Checkpoint probe = Checkpoint.open(dir)) {
            if (QuantizedCheckpoint.isQuantized(probe)) {
                return loadQuantized(dir, configFile, config, device, lora, seed);
            }
        }
        if (quantizer != null) {
            return loadAndQuantize(dir, configFile, config, device, lora, seed, quantizer);
        }
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            Path source = weightsFile(ck, dir);
            Map<String, Shape> expected = LlamaModel.weightShapes(config);
            checkNoExtra(ck, configFile, config, expected.keySet());
            for (Map.Entry<String, Shape> e : expected.entrySet()) {
                checkDense(ck, source, configFile, e.getKey(), e.getValue());
                weights.put(e.getKey(), dev.ascendj.core.Scope.untracked(
                        () -> ck.load(e.getKey(), device, DType.FP32)));
            }
        } catch (RuntimeException ex) {
            weights.values().forEach(Tensor::close);
            throw ex;
        }
        return LlamaModel.fromWeights(config, device, weights, lora, seed);
    }

    /** Refuses tensors that {@code expected} (the names the config implies) does not list. */
    private static void checkNoExtra(Checkpoint ck, Path configFile, LlamaConfig config, Set<String> expected) {
        Set<String> extra = new TreeSet<>(ck.names());
        extra.removeAll(expected);
        extra.removeIf(n -> n.endsWith("rotary_emb.inv_freq")); // a buffer older HF exports carry
        if (!extra.isEmpty()) {
            String first = extra.iterator().next();
            String why = extra.contains("lm_head.weight") && config.tieWordEmbeddings()
                    ? "; tie_word_embeddings is true, so the LM head is the embedding and has no weight of its own" : "";
            throw new FormatException(ck.fileOf(first).path(), first, "unexpected for a LLaMA model of "
                    + configFile + (extra.size() == 1 ? "" : " (" + extra.size() + " unexpected tensors: " + extra + ")")
                    + why);
        }
    }

    /** Checks that {@code name} is stored with the shape the config needs. */
    private static void checkDense(Checkpoint ck, Path source, Path configFile, String name, Shape shape) {
        if (!ck.contains(name)) {
            throw new FormatException(source, name, "missing (" + configFile + " needs it, shape " + shape + ")");
        }
        Shape onDisk = ck.info(name).shape();
        if (!onDisk.equals(shape)) {
            throw new FormatException(ck.fileOf(name).path(), name, "has shape " + onDisk + " but " + configFile
                    + " needs " + shape);
        }
    }

    private static LlamaModel loadQuantized(Path dir, Path configFile, LlamaConfig config, Device device,
                                            LoraConfig lora, long seed) {
        Map<String, Tensor> dense = new LinkedHashMap<>();
        Map<String, Nf4Weight> quantized = new LinkedHashMap<>();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            QuantizedCheckpoint.checkMetadata(ck);
            Map<String, Shape> shapes = LlamaModel.weightShapes(config);
            Set<String> expected = new HashSet<>();
            for (String name : shapes.keySet()) {
                if (LlamaModel.isQuantizable(name)) {
                    QuantizedCheckpoint.SUFFIXES.forEach(s -> expected.add(name + s));
                    if (ck.contains(name)) {
                        throw new FormatException(ck.fileOf(name).path(), name, "is stored both dense and quantized");
                    }
                } else {
                    expected.add(name);
                }
            }
            checkNoExtra(ck, configFile, config, expected);
            Path source = weightsFile(ck, dir);
            for (Map.Entry<String, Shape> e : shapes.entrySet()) {
                String name = e.getKey();
                if (LlamaModel.isQuantizable(name)) {
                    quantized.put(name, dev.ascendj.core.Scope.untracked(
                            () -> QuantizedCheckpoint.load(ck, name, e.getValue(), device)));
                } else {
                    checkDense(ck, source, configFile, name, e.getValue());
                    dense.put(name, dev.ascendj.core.Scope.untracked(() -> ck.load(name, device, DType.FP32)));
                }
            }
        } catch (RuntimeException ex) {
            dense.values().forEach(Tensor::close);
            quantized.values().forEach(Nf4Weight::close);
            throw ex;
        }
        return LlamaModel.fromQuantizedWeights(config, device, dense, quantized, lora, seed);
    }

    private static LlamaModel loadAndQuantize(Path dir, Path configFile, LlamaConfig config, Device device,
                                              LoraConfig lora, long seed, Nf4Quantizer quantizer) {
        Map<String, Tensor> dense = new LinkedHashMap<>();
        Map<String, Nf4Weight> quantized = new LinkedHashMap<>();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            Map<String, Shape> shapes = LlamaModel.weightShapes(config);
            checkNoExtra(ck, configFile, config, shapes.keySet());
            Path source = weightsFile(ck, dir);
            for (Map.Entry<String, Shape> e : shapes.entrySet()) {
                String name = e.getKey();
                checkDense(ck, source, configFile, name, e.getValue());
                if (LlamaModel.isQuantizable(name)) {
                    // One dense weight at a time: peak memory is the NF4 model plus one FP32 matrix.
                    quantized.put(name, dev.ascendj.core.Scope.untracked(() -> {
                        try (Tensor t = ck.load(name, device, DType.FP32)) {
                            return quantizer.quantize(t);
                        }
                    }));
                } else {
                    dense.put(name, dev.ascendj.core.Scope.untracked(() -> ck.load(name, device, DType.FP32)));
                }
            }
        } catch (RuntimeException ex) {
            dense.values().forEach(Tensor::close);
            quantized.values().forEach(Nf4Weight::close);
            throw ex;
        }
        return LlamaModel.fromQuantizedWeights(config, device, dense, quantized, lora, seed);
    }

    /** The file a reader of {@code dir} would look into: the single weights file or the shard index. */
    private static Path weightsFile(Checkpoint ck, Path dir) {
        Path index = dir.resolve(SafetensorsWriter.INDEX_FILE);
        return Files.exists(index) ? index : ck.files().get(0).path();
    }

    /** Writes the LoRA adapters of {@code model} alone, in PEFT's layout. */
    public static void saveAdapter(LlamaModel model, Path dir, String baseModel) {
        LoraConfig lora = model.lora();
        if (lora == null) {
            throw new IllegalArgumentException("the model has no LoRA adapters to save");
        }
        mkdirs(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (Parameter p : model.parameters().values()) {
            if (p.name().contains(".lora_")) {
                w.add(PEFT_PREFIX + p.name(), p.value(), DType.FP32);
            }
        }
        w.write(dir.resolve(ADAPTER_WEIGHTS));
        ObjectNode c = JSON.createObjectNode();
        c.put("peft_type", "LORA");
        c.put("task_type", "CAUSAL_LM");
        c.put("r", lora.rank());
        c.put("lora_alpha", lora.alpha());
        c.put("lora_dropout", lora.dropout());
        ArrayNode targets = c.putArray("target_modules");
        new TreeSet<>(lora.targetModules()).forEach(targets::add);
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("base_model_name_or_path", baseModel == null ? "" : baseModel);
        writeText(dir.resolve(ADAPTER_CONFIG), c.toPrettyString());
    }

    /** Reads a PEFT {@code adapter_config.json}. */
    public static LoraConfig readAdapterConfig(Path dir) {
        Path file = dir.resolve(ADAPTER_CONFIG);
        JsonNode n;
        try {
            n = StrictReader.readTree(file, StrictReader.Syntax.JSON, "adapter config", MAX_ADAPTER_CONFIG_BYTES);
        } catch (InputFormatException e) {
            throw FormatException.from(file, e);
        }
        if (n == null || !n.isObject()) {
            throw new FormatException(file, null, "not a JSON object");
        }
        if (!"LORA".equalsIgnoreCase(n.path("peft_type").asText("LORA"))) {
            throw new FormatException(file, null, "peft_type '" + n.path("peft_type").asText()
                    + "' is not supported (only LORA)");
        }
        if (!n.path("r").isIntegralNumber() || !n.path("r").canConvertToInt() || !n.path("lora_alpha").isNumber()) {
            throw new FormatException(file, null, "needs integer 'r' and numeric 'lora_alpha'");
        }
        rejectUnsupported(file, n);
        Set<String> targets = new HashSet<>();
        JsonNode t = n.path("target_modules");
        if (t.isTextual()) {
            // PEFT also takes one string: a module name, or "all-linear" for every linear but the head.
            targets.addAll("all-linear".equals(t.textValue()) ? LoraConfig.ALL_TARGETS : Set.of(t.textValue()));
        } else {
            t.forEach(x -> targets.add(x.asText()));
        }
        try {
            return new LoraConfig(n.get("r").asInt(), (float) n.get("lora_alpha").asDouble(),
                    (float) n.path("lora_dropout").asDouble(0), targets);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, null, e.getMessage());
        }
    }

    /**
     * PEFT options that change what the adapter computes (scaling, per-layer ranks, DoRA, biases,
     * transposed weights, extra trained modules): loading such an adapter as plain LoRA would give
     * a different model without a word, so it is refused.
     */
    private static void rejectUnsupported(Path file, JsonNode n) {
        for (String flag : new String[] {"use_rslora", "use_dora", "fan_in_fan_out"}) {
            if (n.path(flag).asBoolean(false)) {
                throw new FormatException(file, "field", flag, "true is not supported (plain LoRA only)", null);
            }
        }
        for (String map : new String[] {"rank_pattern", "alpha_pattern"}) {
            if (n.path(map).size() > 0) {
                throw new FormatException(file, "field", map, "per-module ranks or alphas are not supported", null);
            }
        }
        for (String list : new String[] {"layers_to_transform", "modules_to_save"}) {
            JsonNode v = n.path(list);
            if (!v.isMissingNode() && !v.isNull() && !(v.isArray() && v.isEmpty())) {
                throw new FormatException(file, "field", list, "is not supported (adapters on every layer, "
                        + "no extra trained modules)", null);
            }
        }
        String bias = n.path("bias").asText("none");
        if (!"none".equals(bias)) {
            throw new FormatException(file, "field", "bias", "'" + bias + "' is not supported (LLaMA's linears have no bias)", null);
        }
    }

    /** Copies the adapter weights saved in {@code dir} into {@code model}'s adapters (same config). */
    public static void loadAdapterWeights(LlamaModel model, Path dir) {
        Path file = dir.resolve(ADAPTER_WEIGHTS);
        try (Checkpoint ck = Checkpoint.open(file)) {
            List<String> missing = new ArrayList<>();
            Set<String> unexpected = new TreeSet<>(ck.names());
            for (Parameter p : model.parameters().values()) {
                unexpected.remove(PEFT_PREFIX + p.name());
            }
            if (!unexpected.isEmpty()) {
                // Adapters the config does not list would otherwise be dropped without a word.
                throw new FormatException(file, unexpected.iterator().next(), "unexpected: not an adapter of "
                        + model.lora() + (unexpected.size() == 1 ? "" : " (" + unexpected.size() + " unexpected tensors)"));
            }
            for (Parameter p : model.parameters().values()) {
                if (!p.name().contains(".lora_")) {
                    continue;
                }
                String name = PEFT_PREFIX + p.name();
                if (!ck.contains(name)) {
                    missing.add(name);
                    continue;
                }
                ck.copyInto(name, p.value());
            }
            if (!missing.isEmpty()) {
                throw new FormatException(file, missing.get(0), "missing (" + missing.size()
                        + " adapter tensors in all)");
            }
        }
    }

    /**
     * Folds every adapter into its base weight, {@code W += (alpha/r) B A}, and zeroes B so that
     * the model computes the same function with the adapters left in place.
     */
    public static void mergeAdapters(LlamaModel model, Ops ops) {
        LoraConfig lora = model.lora();
        if (lora == null) {
            return;
        }
        if (model.isQuantized()) {
            throw new IllegalArgumentException("cannot merge LoRA adapters into NF4-quantized base weights; load the"
                    + " unquantized base model and merge into that");
        }
        for (Parameter a : model.parameters().values()) {
            if (!a.name().endsWith(".lora_A.weight")) {
                continue;
            }
            String prefix = a.name().substring(0, a.name().length() - ".lora_A.weight".length());
            Parameter b = model.parameters().get(prefix + ".lora_B.weight");
            Parameter w = model.parameters().get(prefix + ".weight");
            ops.matmul(b.value(), false, a.value(), false, w.value(), lora.scaling(), 1f);
            ops.fill(b.value(), 0f);
        }
    }

    private static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create directory " + dir, e);
        }
    }

    /** Writes UTF-8 text atomically. */
    public static void writeText(Path file, String text) {
        AtomicFiles.write(file, text);
    }
}
