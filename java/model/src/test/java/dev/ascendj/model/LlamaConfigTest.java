package dev.ascendj.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LlamaConfigTest {

    /** A trimmed copy of the LLaMA2-7B config.json as published on the Hugging Face hub. */
    private static final String HF_7B = """
            {
              "_name_or_path": "meta-llama/Llama-2-7b-hf",
              "architectures": ["LlamaForCausalLM"],
              "bos_token_id": 1,
              "eos_token_id": 2,
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.02,
              "intermediate_size": 11008,
              "max_position_embeddings": 4096,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 32,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "tie_word_embeddings": false,
              "torch_dtype": "float16",
              "transformers_version": "4.31.0.dev0",
              "use_cache": true,
              "vocab_size": 32000
            }
            """;

    @ParameterizedTest(name = "{0} has {1} parameters")
    @CsvSource({
        // Hand counts (costmodel.md: 6.74B, 13.02B, 68.98B).
        "llama2-7b, 6738415616",
        "llama2-13b, 13015864320",
        "llama2-70b, 68976648192",
        // 288*32000 + 6*(4*288^2 + 3*288*768 + 2*288) + 288, LM head tied.
        "llama2-15m, 15191712",
        "llama2-60m, 58073600"})
    void presetsHaveTheHandCountedParameters(String name, long expected) {
        assertEquals(expected, LlamaConfigs.preset(name).parameterCount());
    }

    @Test
    void the70bPresetUsesGroupedQueryAttention() {
        LlamaConfig c = LlamaConfigs.preset("llama2-70b");
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(128, c.headDim());
        assertEquals(1024, c.kvDim());
        assertEquals(8, c.queryGroupSize());
    }

    @Test
    void parsesAHuggingFaceConfigIgnoringUnknownFields() {
        LlamaConfig c = LlamaConfigs.parse(HF_7B, "config.json");
        assertEquals(LlamaConfigs.preset("llama2-7b"), c);
        assertEquals(4096, c.maxSequenceLength());
        // Newer exports spell out head_dim and attention_dropout; consistent values are accepted.
        String newer = HF_7B.replace("\"use_cache\": true,", "\"head_dim\": 128, \"attention_dropout\": 0.0,");
        assertTrue(newer.contains("head_dim"));
        assertEquals(c, LlamaConfigs.parse(newer, "config.json"));
    }

    @Test
    void appliesTransformersDefaultsForOptionalFields() {
        LlamaConfig c = LlamaConfigs.parse("""
                {"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "vocab_size": 100}""", "x");
        assertEquals(4, c.numKeyValueHeads());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertNull(c.ropeScaling());
    }

    @Test
    void readsLinearRopeScalingInBothSpellings() {
        String old = HF_7B.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}");
        String newer = HF_7B.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2}");
        assertEquals(RopeScaling.linear(4), LlamaConfigs.parse(old, "x").ropeScaling());
        assertEquals(16384, LlamaConfigs.parse(old, "x").maxSequenceLength());
        assertEquals(RopeScaling.linear(2), LlamaConfigs.parse(newer, "x").ropeScaling());
    }

    @Test
    void jsonRoundTripPreservesEveryField() {
        LlamaConfig c = LlamaConfigs.preset("llama2-70b").withRopeScaling(RopeScaling.linear(8));
        assertEquals(c, LlamaConfigs.parse(LlamaConfigs.toJson(c), "round trip"));
        LlamaConfig tiny = LlamaConfigs.preset("llama2-15m");
        assertEquals(tiny, LlamaConfigs.parse(LlamaConfigs.toJson(tiny), "round trip"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing field            | \"hidden_size\": 4096,                | | hidden_size: missing",
        "string for integer       | \"hidden_size\": 4096,                | \"hidden_size\": \"4096\", | hidden_size: expected an integer",
        "float for integer        | \"num_hidden_layers\": 32,            | \"num_hidden_layers\": 32.5, | num_hidden_layers: expected an integer",
        "negative size            | \"vocab_size\": 32000                 | \"vocab_size\": -5 | vocab_size: must be a positive integer, got -5",
        "zero layers              | \"num_hidden_layers\": 32,            | \"num_hidden_layers\": 0, | num_hidden_layers: must be a positive integer",
        "huge number              | \"intermediate_size\": 11008,         | \"intermediate_size\": 99999999999999999999, | intermediate_size: value 99999999999999999999 is out of range",
        "heads do not divide h    | \"num_attention_heads\": 32,          | \"num_attention_heads\": 30, | num_attention_heads: 30 heads do not divide hidden_size 4096",
        "kv heads do not divide   | \"num_key_value_heads\": 32,          | \"num_key_value_heads\": 5, | num_key_value_heads: 5 key/value heads do not divide",
        "odd head dimension       | \"hidden_size\": 4096,                | \"hidden_size\": 4000, | num_attention_heads: head dimension hidden_size/num_attention_heads = 125 must be even",
        "dynamic rope scaling     | \"rope_scaling\": null,               | \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}, | rope_scaling.type: unsupported type 'dynamic'",
        "shrinking rope factor    | \"rope_scaling\": null,               | \"rope_scaling\": {\"type\": \"linear\", \"factor\": 0.5}, | rope_scaling.factor: must be a finite number >= 1",
        "rope factor missing      | \"rope_scaling\": null,               | \"rope_scaling\": {\"type\": \"linear\"}, | rope_scaling.factor: missing",
        "rope scaling not object  | \"rope_scaling\": null,               | \"rope_scaling\": 2, | rope_scaling: expected an object",
        "zero epsilon             | \"rms_norm_eps\": 1e-05,              | \"rms_norm_eps\": 0, | rms_norm_eps: must lie in (0, 1)",
        "not llama                | \"model_type\": \"llama\",            | \"model_type\": \"gpt2\", | model_type: 'gpt2' is not a LLaMA configuration",
        "other activation         | \"hidden_act\": \"silu\",             | \"hidden_act\": \"gelu\", | hidden_act: 'gelu' is not supported",
        "biases                   | \"use_cache\": true,                  | \"attention_bias\": true, | attention_bias: true is not supported",
        "tie as string            | \"tie_word_embeddings\": false,       | \"tie_word_embeddings\": \"no\", | tie_word_embeddings: expected true or false",
        "other head dimension     | \"use_cache\": true,                  | \"head_dim\": 64, | head_dim: 64 differs from hidden_size/num_attention_heads = 128",
        "attention dropout        | \"use_cache\": true,                  | \"attention_dropout\": 0.1, | attention_dropout: must be 0"})
    void rejectsBadFieldsNamingFileFieldAndProblem(String name, String from, String to, String expected) {
        String json = HF_7B.replace(from, to == null ? "" : to);
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfigs.parse(json, "/m/config.json"));
        assertTrue(e.getMessage().startsWith("/m/config.json: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "truncated     | {\"hidden_size\": 40         | not valid JSON",
        "array         | [1, 2, 3]                    | expected a JSON object at the top level",
        "empty         | ''                           | the document is empty",
        "garbage       | \u0000\u0001binary           | not valid JSON"})
    void rejectsMalformedJson(String name, String text, String expected) {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfigs.parse(text, "f.json"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith("f.json: "), e.getMessage());
    }

    @Test
    void resolvesPresetsFilesAndDirectories(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, HF_7B);
        LlamaConfig seven = LlamaConfigs.preset("llama2-7b");
        assertEquals(seven, LlamaConfigs.resolve("llama2-7b"));
        assertEquals(seven, LlamaConfigs.resolve(file.toString()));
        assertEquals(seven, LlamaConfigs.resolve(dir.toString()));
    }

    @Test
    void resolveExplainsWhatItAccepts(@TempDir Path dir) {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfigs.resolve("llama3-8b"));
        assertTrue(e.getMessage().contains("neither a preset (llama2-7b"), e.getMessage());
        ModelConfigException noConfig = assertThrows(ModelConfigException.class, () -> LlamaConfigs.resolve(dir.toString()));
        assertTrue(noConfig.getMessage().contains("model directory has no config.json"), noConfig.getMessage());
        assertThrows(ModelConfigException.class, () -> LlamaConfigs.resolve(" "));
    }

    @Test
    void refusesOversizedFiles(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.write(file, new byte[(int) LlamaConfigs.MAX_CONFIG_BYTES + 1]);
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfigs.read(file));
        assertTrue(e.getMessage().contains("a config.json is a few kilobytes"), e.getMessage());
    }

    @Test
    void constructorValidatesToo() {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> LlamaConfig.builder().hidden(64).intermediate(128).vocab(100).ropeTheta(0.5).positions(128)
                        .build());
        assertEquals("rope_theta", e.field());
    }

    @Test
    void linearShapesFollowHuggingFaceNames() {
        LlamaConfig c = LlamaConfigs.preset("llama2-70b");
        long sum = 0;
        for (String name : LlamaConfig.LINEAR_NAMES) {
            int[] s = c.linearShape(name);
            sum += (long) s[0] * s[1];
        }
        assertEquals(c.linearParametersPerLayer(), sum);
        assertThrows(IllegalArgumentException.class, () -> c.linearShape("lm_head"));
    }
}
