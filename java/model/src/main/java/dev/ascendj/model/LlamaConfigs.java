package dev.ascendj.model;

import dev.ascendj.core.IoErrors;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads, writes and resolves {@link LlamaConfig}s.
 *
 * <p>{@link #resolve(String)} accepts a preset name ({@link #PRESETS}), a path to a
 * {@code config.json}, or a model directory that contains one. Fields Hugging Face configs carry
 * but AscendJ does not need (token ids, torch_dtype, ...) are ignored; fields that would change
 * the architecture ({@code model_type}, {@code hidden_act}, {@code attention_bias},
 * {@code mlp_bias}, non-linear {@code rope_scaling}) are checked and rejected when they describe
 * something AscendJ does not implement.
 */
public final class LlamaConfigs {

    /** Preset names: the LLaMA2 sizes and two small CPU models. */
    public static final List<String> PRESETS = List.of("llama2-7b", "llama2-13b", "llama2-70b", "llama2-15m", "llama2-60m");

    /** Larger files are not Hugging Face configs; refusing them bounds memory on hostile input. */
    static final long MAX_CONFIG_BYTES = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LlamaConfigs() {
    }

    /**
     * A preset, a {@code config.json} file, or a directory holding {@code config.json}.
     *
     * @throws ModelConfigException naming the argument when it is none of these, or naming the
     *                              file and field when the file is invalid
     */
    public static LlamaConfig resolve(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new ModelConfigException(null, "model", "empty model name; expected a preset (" + String.join(", ", PRESETS)
                    + "), a config.json or a model directory");
        }
        if (PRESETS.contains(spec)) {
            return preset(spec);
        }
        Path path;
        try {
            path = Path.of(spec);
        } catch (java.nio.file.InvalidPathException e) {
            throw unknownModel(spec);
        }
        if (Files.isDirectory(path)) {
            Path config = path.resolve("config.json");
            if (!Files.isRegularFile(config)) {
                throw new ModelConfigException(path.toString(), null, "model directory has no config.json");
            }
            return read(config);
        }
        if (Files.isRegularFile(path)) {
            return read(path);
        }
        throw unknownModel(spec);
    }

    private static ModelConfigException unknownModel(String spec) {
        return new ModelConfigException(null, "model", "'" + spec + "' is neither a preset (" + String.join(", ", PRESETS)
                + ") nor an existing config.json or model directory");
    }

    /** The named preset. */
    public static LlamaConfig preset(String name) {
        if (!PRESETS.contains(name)) {
            throw new ModelConfigException(null, "model", "unknown preset '" + name + "' (known: " + String.join(", ", PRESETS) + ")");
        }
        String resource = "presets/" + name + ".json";
        try (InputStream in = LlamaConfigs.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("preset resource missing from the jar: " + resource);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "preset " + name);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read preset resource " + resource, e);
        }
    }

    /** Reads a Hugging Face {@code config.json}. */
    public static LlamaConfig read(Path file) {
        String source = file.toString();
        try {
            long size = Files.size(file);
            if (size > MAX_CONFIG_BYTES) {
                throw new ModelConfigException(source, null, "file is " + size + " bytes; a config.json is a few kilobytes (limit "
                        + MAX_CONFIG_BYTES + ")");
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), source);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new ModelConfigException(source, null, "not UTF-8 text", e);
        } catch (IOException e) {
            throw new ModelConfigException(source, null, "cannot read: " + IoErrors.describe(e), e);
        }
    }

    /**
     * Parses the text of a {@code config.json}.
     *
     * @param source names the text in error messages (a file path or "preset x")
     */
    public static LlamaConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = StrictReader.parse(source, null, json, StrictReader.Syntax.JSON);
        } catch (InputFormatException e) {
            throw new ModelConfigException(source, e.field(), e.problem(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelConfigException(source, null, "expected a JSON object at the top level");
        }
        try {
            return fromTree(root);
        } catch (ModelConfigException e) {
            throw e.source() == null ? e.withSource(source) : e;
        }
    }

    private static LlamaConfig fromTree(JsonNode root) {
        String modelType = optionalText(root, "model_type");
        if (modelType != null && !modelType.equals("llama")) {
            throw new ModelConfigException(null, "model_type", "'" + modelType + "' is not a LLaMA configuration (expected 'llama')");
        }
        String act = optionalText(root, "hidden_act");
        if (act != null && !act.equals("silu")) {
            throw new ModelConfigException(null, "hidden_act", "'" + act + "' is not supported (LLaMA's SwiGLU MLP uses 'silu')");
        }
        for (String bias : new String[] {"attention_bias", "mlp_bias"}) {
            if (optionalBoolean(root, bias, false)) {
                throw new ModelConfigException(null, bias, "true is not supported (AscendJ's LLaMA layers have no biases)");
            }
        }
        int heads = requiredInt(root, "num_attention_heads");
        if (optionalDouble(root, "attention_dropout", 0) != 0) {
            throw new ModelConfigException(null, "attention_dropout", "must be 0 (AscendJ's attention has no dropout), got "
                    + root.get("attention_dropout").asText());
        }
        int hidden = requiredInt(root, "hidden_size");
        JsonNode headDim = root.get("head_dim");
        if (headDim != null && !headDim.isNull() && heads > 0 && toInt(headDim, "head_dim") != hidden / heads) {
            // Newer transformers releases allow a head dimension other than hidden/heads; LLaMA2 has none.
            throw new ModelConfigException(null, "head_dim", headDim.asText() + " differs from hidden_size/num_attention_heads = "
                    + hidden / heads + ", which AscendJ requires");
        }
        return new LlamaConfig(
                hidden,
                requiredInt(root, "intermediate_size"),
                requiredInt(root, "num_hidden_layers"),
                heads,
                optionalInt(root, "num_key_value_heads", heads),
                requiredInt(root, "vocab_size"),
                // Defaults are those of transformers' LlamaConfig.
                optionalDouble(root, "rms_norm_eps", 1e-6),
                optionalDouble(root, "rope_theta", 10000.0),
                ropeScaling(root.get("rope_scaling")),
                optionalBoolean(root, "tie_word_embeddings", false),
                optionalInt(root, "max_position_embeddings", 2048));
    }

    private static RopeScaling ropeScaling(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new ModelConfigException(null, "rope_scaling", "expected an object {type, factor} or null, got " + kind(node));
        }
        // Newer transformers releases write "rope_type"; older ones "type".
        String type = optionalText(node, "type", "rope_scaling.type");
        String ropeType = optionalText(node, "rope_type", "rope_scaling.rope_type");
        if (type == null) {
            type = ropeType;
        }
        if (type == null) {
            throw new ModelConfigException(null, "rope_scaling.type", "missing");
        }
        if (ropeType != null && !ropeType.equals(type)) {
            throw new ModelConfigException(null, "rope_scaling.rope_type", "'" + ropeType + "' contradicts type '" + type + "'");
        }
        JsonNode factor = node.get("factor");
        if (factor == null || factor.isNull()) {
            throw new ModelConfigException(null, "rope_scaling.factor", "missing");
        }
        if (!factor.isNumber()) {
            throw new ModelConfigException(null, "rope_scaling.factor", "expected a number, got " + kind(factor));
        }
        JsonNode original = node.get("original_max_position_embeddings");
        Integer originalMax = null;
        if (original != null && !original.isNull()) {
            originalMax = toInt(original, "rope_scaling.original_max_position_embeddings");
        }
        return new RopeScaling(type, factor.doubleValue(), originalMax);
    }

    private static int requiredInt(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            throw new ModelConfigException(null, field, "missing");
        }
        return toInt(n, field);
    }

    private static int optionalInt(JsonNode root, String field, int dflt) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? dflt : toInt(n, field);
    }

    private static int toInt(JsonNode n, String field) {
        if (!n.isIntegralNumber()) {
            throw new ModelConfigException(null, field, "expected an integer, got " + kind(n));
        }
        if (!n.canConvertToInt()) {
            throw new ModelConfigException(null, field, "value " + n.asText() + " is out of range");
        }
        return n.intValue();
    }

    private static double optionalDouble(JsonNode root, String field, double dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new ModelConfigException(null, field, "expected a number, got " + kind(n));
        }
        return n.doubleValue();
    }

    private static boolean optionalBoolean(JsonNode root, String field, boolean dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new ModelConfigException(null, field, "expected true or false, got " + kind(n));
        }
        return n.booleanValue();
    }

    private static String optionalText(JsonNode root, String field) {
        return optionalText(root, field, field);
    }

    private static String optionalText(JsonNode root, String field, String path) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new ModelConfigException(null, path, "expected a string, got " + kind(n));
        }
        return n.textValue();
    }

    private static String kind(JsonNode n) {
        String text = n.toString();
        if (text.length() > 40) {
            text = text.substring(0, 37) + "...";
        }
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT) + " " + text;
    }

    /**
     * The configuration as Hugging Face {@code config.json} text, with the fields transformers
     * needs to load it as {@code LlamaForCausalLM}.
     */
    public static String toJson(LlamaConfig config) {
        ObjectNode node = JSON.createObjectNode();
        node.putArray("architectures").add("LlamaForCausalLM");
        node.put("model_type", "llama");
        node.put("hidden_act", "silu");
        node.setAll((ObjectNode) JSON.valueToTree(config));
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
