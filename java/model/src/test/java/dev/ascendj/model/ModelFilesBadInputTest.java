package dev.ascendj.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.FormatException;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.layers.LoraConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Broken model directories and adapters: every failure is an exception whose message names the
 * file, the field or tensor at fault and the problem.
 */
class ModelFilesBadInputTest {
    private static final String Q = "model.layers.1.self_attn.q_proj.weight";

    private static CpuBackend backend;
    private static Device dev;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(1);
        dev = backend.device(0);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static String config() throws IOException {
        return Files.readString(TinyLlamaFixture.modelDir().resolve("config.json"), StandardCharsets.UTF_8);
    }

    /** The fixture's model directory copied to tmp, with {@code config.json} replaced by {@code configText}. */
    private Path withConfig(String configText) throws IOException {
        Files.copy(TinyLlamaFixture.modelDir().resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        Files.writeString(tmp.resolve("config.json"), configText, StandardCharsets.UTF_8);
        return tmp;
    }

    /** The fixture's model directory copied to tmp, its checkpoint rewritten after {@code edit} of the tensors. */
    private Path withTensors(Consumer<Map<String, Tensor>> edit) throws IOException {
        Files.copy(TinyLlamaFixture.modelDir().resolve("config.json"), tmp.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(TinyLlamaFixture.modelDir()); Scope s = Scope.open()) {
            Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
            for (String n : ck.names()) {
                tensors.put(n, ck.load(n, dev));
            }
            edit.accept(tensors);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            tensors.forEach(w::add);
            w.write(tmp.resolve("model.safetensors"));
        }
        return tmp;
    }

    private static <T extends Throwable> T assertLoadFails(Class<T> type, Path dir, String... fragments) {
        T e = assertThrows(type, () -> ModelFiles.load(dir, dev, null, 1).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message lacks '" + f + "': " + e.getMessage());
        }
        return e;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"num_key_value_heads\": 2      | \"num_key_value_heads\": 3      | num_key_value_heads | do not divide",
        "\"hidden_size\": 32             | \"hidden_size\": -32            | hidden_size         | positive",
        "\"num_attention_heads\": 4      | \"num_attention_heads\": 0      | num_attention_heads | positive",
        "\"num_attention_heads\": 4      | \"num_attention_heads\": 5      | num_attention_heads | do not divide hidden_size",
        "\"rms_norm_eps\": 1e-06         | \"rms_norm_eps\": 0             | rms_norm_eps        | (0, 1)",
        "\"factor\": 2.0                 | \"factor\": 0.5                 | rope_scaling.factor | >= 1",
        "\"type\": \"linear\"            | \"type\": \"yarn\"              | rope_scaling.type   | unsupported",
        "\"vocab_size\": 97              | \"vocab_size\": 9.7             | vocab_size          | integer",
        "\"intermediate_size\": 48       | \"intermediate_size\": null     | intermediate_size   | missing",
        "\"hidden_act\": \"silu\"        | \"hidden_act\": \"gelu\"        | hidden_act          | not supported",
    })
    void aConfigWithImpossibleValuesNamesTheFileAndField(String from, String to, String field, String problem)
            throws IOException {
        String text = config();
        assertTrue(text.contains(from.trim()), from);
        Path dir = withConfig(text.replace(from.trim(), to.trim()));
        ModelConfigException e = assertLoadFails(ModelConfigException.class, dir,
                dir.resolve("config.json").toString(), field, problem);
        assertEquals(field, e.field());
    }

    @Test
    void aConfigThatIsNotJsonNamesTheFileAndPosition() throws IOException {
        Path dir = withConfig(config().replace("\"hidden_size\": 32,", "\"hidden_size\": 32,,"));
        assertLoadFails(ModelConfigException.class, dir, dir.resolve("config.json").toString(), "not valid JSON", "line");
    }

    @Test
    void aMissingConfigIsNamed() throws IOException {
        Files.copy(TinyLlamaFixture.modelDir().resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        assertLoadFails(ModelConfigException.class, tmp, tmp.resolve("config.json").toString());
    }

    @Test
    void aTensorWhoseShapeDoesNotMatchTheConfigIsNamed() throws IOException {
        Path dir = withTensors(t -> t.put(Q, t.get(Q).slice(0, 0, 16).reshape(16, 32)));
        FormatException e = assertLoadFails(FormatException.class, dir,
                dir.resolve("model.safetensors").toString(), Q, "[16, 32]", "[32, 32]");
        assertEquals(Q, e.entry());
    }

    @Test
    void weightsThatAreNotNumbersAreRefusedNamingTheTensorAndHowMany() throws IOException {
        Path dir = withTensors(t -> {
            float[] v = t.get(Q).toFloatArray();
            v[0] = Float.NaN;
            v[7] = Float.POSITIVE_INFINITY;
            v[100] = Float.NEGATIVE_INFINITY;
            t.put(Q, Tensor.fromFloats(dev, t.get(Q).shape(), v));
        });
        FormatException e = assertLoadFails(FormatException.class, dir, dir.resolve("model.safetensors").toString(),
                "tensor '" + Q + "': holds 3 non-finite values (NaN or infinity) among 1,024");
        assertEquals(Q, e.entry());
    }

    @Test
    void aNonFiniteValueInA16BitCheckpointIsFoundToo() throws IOException {
        String norm = "model.norm.weight";
        Path dir = withTensors(t -> {
            float[] v = t.get(norm).toFloatArray();
            v[3] = Float.NaN;
            Tensor half = Tensor.empty(dev, DType.BF16, t.get(norm).shape());
            half.copyFrom(v);
            t.put(norm, half);
        });
        assertLoadFails(FormatException.class, dir, "tensor '" + norm + "': holds 1 non-finite value (NaN or infinity)");
    }

    @Test
    void aConfigThatDoesNotMatchTheCheckpointNamesTheFirstTensorThatDiffers() throws IOException {
        Path dir = withConfig(config().replace("\"intermediate_size\": 48", "\"intermediate_size\": 40"));
        FormatException e = assertLoadFails(FormatException.class, dir, dir.resolve("model.safetensors").toString(),
                "model.layers.0.mlp.gate_proj.weight", "[48, 32]", "[40, 32]", "config.json");
        assertEquals("model.layers.0.mlp.gate_proj.weight", e.entry());
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        Path dir = withTensors(t -> t.remove("model.layers.1.mlp.up_proj.weight"));
        FormatException e = assertLoadFails(FormatException.class, dir, dir.resolve("model.safetensors").toString(),
                "model.layers.1.mlp.up_proj.weight", "missing");
        assertEquals("model.layers.1.mlp.up_proj.weight", e.entry());
    }

    @Test
    void aTiedConfigOverAnUntiedCheckpointNamesTheLmHead() throws IOException {
        Path dir = withConfig(config().replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true"));
        assertLoadFails(FormatException.class, dir, dir.resolve("model.safetensors").toString(), "lm_head.weight",
                "unexpected", "tie_word_embeddings");
    }

    @Test
    void anUnknownExtraTensorIsNamed() throws IOException {
        Path dir = withTensors(t -> t.put("model.layers.0.self_attn.q_proj.bias", Tensor.zeros(dev, DType.FP32, Shape.of(32))));
        FormatException e = assertLoadFails(FormatException.class, dir, dir.resolve("model.safetensors").toString(),
                "model.layers.0.self_attn.q_proj.bias", "unexpected");
        assertEquals("model.layers.0.self_attn.q_proj.bias", e.entry());
    }

    @Test
    void aTensorOfAnIntegerTypeIsNamed() throws IOException {
        Path dir = withTensors(t -> t.put("model.norm.weight", Tensor.fromInts(dev, Shape.of(32), new int[32])));
        assertLoadFails(FormatException.class, dir, dir.resolve("model.safetensors").toString(), "model.norm.weight",
                "I32");
    }

    @Test
    void theLegacyRotaryBufferIsTolerated() throws IOException {
        Path dir = withTensors(t -> t.put("model.layers.0.self_attn.rotary_emb.inv_freq",
                Tensor.zeros(dev, DType.FP32, Shape.of(4))));
        try (LlamaModel m = ModelFiles.load(dir, dev, null, 1)) {
            assertEquals(LlamaModel.weightShapes(m.config()).keySet(), m.parameters().keySet());
        }
    }

    @ParameterizedTest
    @CsvSource({"1", "100", "88000", "89015"})
    void aTruncatedCheckpointNamesTheFile(long keep) throws IOException {
        Files.copy(TinyLlamaFixture.modelDir().resolve("config.json"), tmp.resolve("config.json"));
        Path file = tmp.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(TinyLlamaFixture.modelDir().resolve("model.safetensors"));
        assertTrue(keep < all.length);
        Files.write(file, java.util.Arrays.copyOf(all, (int) keep));
        FormatException e = assertLoadFails(FormatException.class, tmp, file.toString());
        assertEquals(file, e.file());
    }

    @Test
    void aCheckpointWithOverlappingTensorsNamesTheTensor() throws IOException {
        // Rewrite the header so that the second tensor's data starts inside the first one's.
        Files.copy(TinyLlamaFixture.modelDir().resolve("config.json"), tmp.resolve("config.json"));
        byte[] all = Files.readAllBytes(TinyLlamaFixture.modelDir().resolve("model.safetensors"));
        int n = (int) java.nio.ByteBuffer.wrap(all, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(all, 8, n, StandardCharsets.US_ASCII);
        String edited = header.replace("\"data_offsets\":[12416,16512]", "\"data_offsets\":[12412,16508]");
        assertTrue(!edited.equals(header), "fixture layout changed: " + header.substring(0, 300));
        System.arraycopy(edited.getBytes(StandardCharsets.US_ASCII), 0, all, 8, n);
        Files.write(tmp.resolve("model.safetensors"), all);
        assertLoadFails(FormatException.class, tmp, tmp.resolve("model.safetensors").toString(),
                "model.layers.0.self_attn.q_proj.weight");
    }

    @Test
    void aDirectoryWithoutWeightsIsNamed() throws IOException {
        Files.copy(TinyLlamaFixture.modelDir().resolve("config.json"), tmp.resolve("config.json"));
        assertLoadFails(FormatException.class, tmp, tmp.toString(), "model.safetensors");
    }

    // ---------------------------------------------------------------- adapters

    private Path adapterCopy() throws IOException {
        Path dir = tmp.resolve("adapter");
        Files.createDirectories(dir);
        for (String f : new String[] {ModelFiles.ADAPTER_CONFIG, ModelFiles.ADAPTER_WEIGHTS}) {
            Files.copy(TinyLlamaFixture.adapterDir().resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    @Test
    void anAdapterConfigWithABadRankIsNamed() throws IOException {
        Path dir = adapterCopy();
        Path cfg = dir.resolve(ModelFiles.ADAPTER_CONFIG);
        Files.writeString(cfg, Files.readString(cfg).replace("\"r\": 4", "\"r\": 0"));
        FormatException e = assertThrows(FormatException.class, () -> ModelFiles.readAdapterConfig(dir));
        assertTrue(e.getMessage().contains(cfg.toString()) && e.getMessage().contains("rank"), e.getMessage());
    }

    @Test
    void anAdapterConfigWithAnUnknownTargetIsNamed() throws IOException {
        Path dir = adapterCopy();
        Path cfg = dir.resolve(ModelFiles.ADAPTER_CONFIG);
        Files.writeString(cfg, Files.readString(cfg).replace("\"q_proj\"", "\"qkv_proj\""));
        FormatException e = assertThrows(FormatException.class, () -> ModelFiles.readAdapterConfig(dir));
        assertTrue(e.getMessage().contains(cfg.toString()) && e.getMessage().contains("qkv_proj"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"fan_in_fan_out\": false | \"fan_in_fan_out\": true                        | fan_in_fan_out",
        "\"bias\": \"none\"      | \"bias\": \"none\", \"use_rslora\": true        | use_rslora",
        "\"bias\": \"none\"      | \"bias\": \"none\", \"use_dora\": true          | use_dora",
        "\"bias\": \"none\"      | \"bias\": \"lora_only\"                         | bias",
        "\"bias\": \"none\"      | \"bias\": \"none\", \"rank_pattern\": {\"q_proj\": 8} | rank_pattern",
        "\"bias\": \"none\"      | \"bias\": \"none\", \"layers_to_transform\": [0] | layers_to_transform",
        "\"bias\": \"none\"      | \"bias\": \"none\", \"modules_to_save\": [\"lm_head\"] | modules_to_save",
        "\"r\": 4                  | \"r\": 4.5                                      | 'r'",
    })
    void anAdapterConfigThatChangesWhatLoraComputesIsRefused(String from, String to, String named) throws IOException {
        Path dir = adapterCopy();
        Path cfg = dir.resolve(ModelFiles.ADAPTER_CONFIG);
        String text = Files.readString(cfg);
        assertTrue(text.contains(from.trim()), from);
        Files.writeString(cfg, text.replace(from.trim(), to.trim()));
        FormatException e = assertThrows(FormatException.class, () -> ModelFiles.readAdapterConfig(dir));
        assertTrue(e.getMessage().contains(cfg.toString()) && e.getMessage().contains(named), e.getMessage());
    }

    @Test
    void allLinearTargetsEveryProjection() throws IOException {
        Path dir = adapterCopy();
        Path cfg = dir.resolve(ModelFiles.ADAPTER_CONFIG);
        String text = Files.readString(cfg).replaceAll("\"target_modules\": \\[[^\\]]*\\]", "\"target_modules\": \"all-linear\"");
        assertTrue(text.contains("all-linear"), text);
        Files.writeString(cfg, text);
        assertEquals(LoraConfig.ALL_TARGETS, ModelFiles.readAdapterConfig(dir).targetModules());
    }

    @Test
    void adapterWeightsForAnotherConfigAreRefused() throws IOException {
        Path dir = adapterCopy();
        Path file = dir.resolve(ModelFiles.ADAPTER_WEIGHTS);
        // Adapters on k_proj that the file lacks: the first missing one is named.
        LoraConfig more = new LoraConfig(4, 8f, 0f, Set.of("q_proj", "k_proj", "v_proj", "down_proj"));
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, more, 1)) {
            FormatException e = assertThrows(FormatException.class, () -> ModelFiles.loadAdapterWeights(m, dir));
            assertTrue(e.getMessage().contains(file.toString())
                    && e.getMessage().contains("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"),
                    e.getMessage());
        }
        // Fewer targets than the file holds: the file's v_proj adapters would be dropped silently.
        LoraConfig fewer = new LoraConfig(4, 8f, 0f, Set.of("q_proj", "down_proj"));
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, fewer, 1)) {
            FormatException e = assertThrows(FormatException.class, () -> ModelFiles.loadAdapterWeights(m, dir));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("v_proj.lora_A.weight")
                    && e.getMessage().contains("unexpected"), e.getMessage());
        }
        // Another rank: the shape is named.
        LoraConfig rank8 = new LoraConfig(8, 8f, 0f, Set.of("q_proj", "v_proj", "down_proj"));
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, rank8, 1)) {
            FormatException e = assertThrows(FormatException.class, () -> ModelFiles.loadAdapterWeights(m, dir));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("[4, 32]"), e.getMessage());
        }
    }

    @Test
    void aTruncatedAdapterFileIsNamed() throws IOException {
        Path dir = adapterCopy();
        Path file = dir.resolve(ModelFiles.ADAPTER_WEIGHTS);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length - 4));
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, ModelFiles.readAdapterConfig(dir), 1)) {
            FormatException e = assertThrows(FormatException.class, () -> ModelFiles.loadAdapterWeights(m, dir));
            assertEquals(file, e.file());
        }
    }
}
