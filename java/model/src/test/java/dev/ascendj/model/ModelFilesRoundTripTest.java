package dev.ascendj.model;

import static dev.ascendj.model.TinyLlamaFixture.TOL;
import static dev.ascendj.model.TinyLlamaFixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Half;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saving and loading models and PEFT adapters, and merging adapters, on the fixture of {@link TinyLlamaFixture}. */
class ModelFilesRoundTripTest {
    private static CpuBackend backend;
    private static Device dev;
    private static Ops ops;
    private static TinyLlamaFixture fx;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(1);
        dev = backend.device(0);
        ops = backend.ops(dev.defaultStream());
        fx = TinyLlamaFixture.load(dev);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static LlamaModel adapted(long seed) {
        LoraConfig lora = ModelFiles.readAdapterConfig(TinyLlamaFixture.adapterDir());
        LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, lora, seed);
        ModelFiles.loadAdapterWeights(m, TinyLlamaFixture.adapterDir());
        return m;
    }

    private static float[] logits(LlamaModel m) {
        try (Scope s = Scope.open()) {
            return m.logits(ops, fx.idsTensor(dev), fx.batch, fx.seq).toFloatArray();
        }
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    private static void assertSameWeights(LlamaModel expected, LlamaModel actual) {
        assertEquals(new ArrayList<>(expected.parameters().keySet()), new ArrayList<>(actual.parameters().keySet()));
        for (Parameter p : expected.parameters().values()) {
            Parameter q = actual.parameters().get(p.name());
            assertEquals(DType.FP32, q.value().dtype(), p.name());
            assertArrayEquals(bits(p.value()), bits(q.value()), p.name());
        }
    }

    @Test
    void theFixtureModelSavesAndLoadsBackBitIdentically() {
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1)) {
            ModelFiles.save(m, tmp, DType.FP32);
            assertEquals(m.config(), LlamaConfigs.read(tmp.resolve("config.json")));
            try (LlamaModel back = ModelFiles.load(tmp, dev, null, 1)) {
                assertEquals(m.config(), back.config());
                assertSameWeights(m, back);
                assertArrayEquals(logits(m), logits(back));
            }
            // The bytes on disk are those of the file PyTorch's side wrote.
            try (Checkpoint a = Checkpoint.open(TinyLlamaFixture.modelDir()); Checkpoint b = Checkpoint.open(tmp)) {
                assertEquals(a.names(), b.names());
                for (String n : a.names()) {
                    assertEquals(a.bytes(n), b.bytes(n), n);
                }
            }
        }
    }

    @Test
    void aModelSavedInShardsLoadsBackBitIdentically() {
        Path sharded = tmp.resolve("saved-sharded");
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1)) {
            ModelFiles.save(m, sharded, DType.FP32, 16_000);
            assertTrue(Files.isRegularFile(sharded.resolve(SafetensorsWriter.INDEX_FILE)));
            assertTrue(!Files.exists(sharded.resolve(SafetensorsWriter.SINGLE_FILE)));
            try (LlamaModel back = ModelFiles.load(sharded, dev, null, 1)) {
                assertSameWeights(m, back);
            }
        }
    }

    @Test
    void aShardedCheckpointLoadsAsTheSingleFile() throws IOException {
        Path sharded = tmp.resolve("sharded");
        Files.createDirectories(sharded);
        Files.copy(TinyLlamaFixture.modelDir().resolve("config.json"), sharded.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(TinyLlamaFixture.modelDir()); Scope s = Scope.open()) {
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (String n : ck.names()) {
                w.add(n, ck.load(n, dev));
            }
            assertTrue(w.writeSharded(sharded, 20_000).size() > 3, "several shards");
        }
        try (LlamaModel single = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1);
             LlamaModel fromShards = ModelFiles.load(sharded, dev, null, 1)) {
            assertSameWeights(single, fromShards);
            assertClose("logits from shards", logits(fromShards), fx.expected("logits"), TOL);
        }
        // A tensor missing from every shard is reported against the index.
        ObjectMapper json = new ObjectMapper();
        Path indexFile = sharded.resolve(SafetensorsWriter.INDEX_FILE);
        JsonNode index = json.readTree(indexFile.toFile());
        assertTrue(((com.fasterxml.jackson.databind.node.ObjectNode) index.get("weight_map")).remove("model.norm.weight") != null);
        com.fasterxml.jackson.databind.node.ObjectNode meta = (com.fasterxml.jackson.databind.node.ObjectNode) index.get("metadata");
        meta.put("total_size", meta.get("total_size").longValue() - 32 * 4); // keeps the index self-consistent
        json.writeValue(indexFile.toFile(), index);
        dev.ascendj.model.io.FormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.ascendj.model.io.FormatException.class, () -> ModelFiles.load(sharded, dev, null, 1).close());
        assertTrue(e.getMessage().contains(sharded.resolve(SafetensorsWriter.INDEX_FILE).toString())
                && e.getMessage().contains("model.norm.weight") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void aTiedModelWithoutRopeScalingRoundTrips() {
        // Other config branches: tied LM head (no lm_head.weight on disk), no rope_scaling, MHA.
        LlamaConfig c = LlamaConfig.builder().hidden(16).intermediate(24).layers(1).heads(2).kvHeads(2).vocab(31)
                .ropeTheta(500000).tied(true).positions(32).build();
        try (LlamaModel m = LlamaModel.initialize(c, dev, 5, null)) {
            ModelFiles.save(m, tmp, DType.FP32);
            try (LlamaModel back = ModelFiles.load(tmp, dev, null, 1); Checkpoint ck = Checkpoint.open(tmp)) {
                assertFalse(ck.contains("lm_head.weight"));
                assertEquals(c, back.config());
                assertSameWeights(m, back);
            }
        }
    }

    @Test
    void theAdapterSavesInPeftLayoutAndLoadsBackBitIdentically() throws IOException {
        try (LlamaModel m = adapted(1)) {
            ModelFiles.saveAdapter(m, tmp, "llama-tiny");
            assertEquals(m.lora(), ModelFiles.readAdapterConfig(tmp));
            JsonNode cfg = new ObjectMapper().readTree(tmp.resolve(ModelFiles.ADAPTER_CONFIG).toFile());
            assertEquals("LORA", cfg.get("peft_type").textValue());
            assertEquals(4, cfg.get("r").intValue());
            assertEquals(8.0, cfg.get("lora_alpha").doubleValue());
            assertEquals("llama-tiny", cfg.get("base_model_name_or_path").textValue());
            // Same PEFT names and the same bytes as the adapter file the fixture script wrote.
            try (Checkpoint a = Checkpoint.open(TinyLlamaFixture.adapterDir().resolve(ModelFiles.ADAPTER_WEIGHTS));
                 Checkpoint b = Checkpoint.open(tmp.resolve(ModelFiles.ADAPTER_WEIGHTS))) {
                assertEquals(a.names(), b.names());
                for (String n : a.names()) {
                    assertTrue(n.startsWith(ModelFiles.PEFT_PREFIX + "model.layers."), n);
                    assertEquals(a.bytes(n), b.bytes(n), n);
                }
            }
            // A model with other fresh adapters (another seed) takes the saved ones exactly.
            try (LlamaModel other = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, m.lora(), 99)) {
                Parameter a0 = other.parameters().get("model.layers.0.self_attn.q_proj.lora_A.weight");
                assertNotEquals(List.of(bits(a0.value())),
                        List.of(bits(m.parameters().get(a0.name()).value())));
                ModelFiles.loadAdapterWeights(other, tmp);
                assertSameWeights(m, other);
                assertArrayEquals(logits(m), logits(other));
            }
        }
    }

    @Test
    void freshAdaptersFollowCheckpointOrderAndTheSeed() {
        // Adapter order, and with it the draws of the A matrices, must not depend on hash-set
        // iteration order (which changes from one JVM run to the next).
        LoraConfig lora = new LoraConfig(2, 4f, 0f, LoraConfig.ALL_TARGETS);
        try (LlamaModel a = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, lora, 3);
             LlamaModel b = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, lora, 3)) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < a.config().numHiddenLayers(); i++) {
                for (String t : LlamaConfig.LINEAR_NAMES) {
                    String prefix = "model.layers." + i + "." + LlamaModel.module(t) + "." + t;
                    expected.add(prefix + ".lora_A.weight");
                    expected.add(prefix + ".lora_B.weight");
                }
            }
            List<String> names = a.trainableParameters().stream().map(Parameter::name).toList();
            assertEquals(expected, names);
            assertSameWeights(a, b);
            for (Parameter p : a.trainableParameters()) {
                float[] v = p.value().toFloatArray();
                if (p.name().endsWith("lora_B.weight")) {
                    assertArrayEquals(new float[v.length], v, p.name() + " starts at zero");
                } else {
                    double bound = 1 / Math.sqrt(p.value().dim(1));
                    for (float x : v) {
                        assertTrue(Math.abs(x) <= bound && x != 0, p.name());
                    }
                }
            }
        }
    }

    @Test
    void mergedAdaptersGiveTheLogitsOfTheUnmergedModel() {
        try (LlamaModel m = adapted(1)) {
            float[] unmerged = logits(m);
            assertClose("unmerged vs PyTorch", unmerged, fx.expected("lora.logits"), TOL);
            Map<String, Parameter> ps = m.parameters();
            float[] w0 = ps.get("model.layers.1.mlp.down_proj.weight").value().toFloatArray();
            ModelFiles.mergeAdapters(m, ops);
            assertFalse(java.util.Arrays.equals(w0, ps.get("model.layers.1.mlp.down_proj.weight").value().toFloatArray()));
            for (Parameter p : ps.values()) {
                if (p.name().endsWith("lora_B.weight")) {
                    float[] v = p.value().toFloatArray();
                    assertArrayEquals(new float[v.length], v, p.name());
                }
            }
            assertClose("merged vs unmerged", logits(m), unmerged, 1e-5);
            // The merged base weights alone, saved and loaded as a plain model, are the adapted model.
            ModelFiles.save(m, tmp, DType.FP32);
            try (LlamaModel plain = ModelFiles.load(tmp, dev, null, 1)) {
                assertTrue(plain.parameters().keySet().stream().noneMatch(n -> n.contains(".lora_")));
                assertClose("merged, saved and loaded vs PyTorch", logits(plain), fx.expected("lora.logits"), TOL);
            }
        }
    }

    @Test
    void savingInHalfPrecisionRoundsEachWeightOnce() {
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1)) {
            ModelFiles.save(m, tmp, DType.BF16);
            try (Checkpoint ck = Checkpoint.open(tmp); LlamaModel back = ModelFiles.load(tmp, dev, null, 1)) {
                for (String n : ck.names()) {
                    assertEquals("BF16", ck.info(n).dtype().name(), n);
                }
                for (Parameter p : m.parameters().values()) {
                    float[] rounded = p.value().toFloatArray();
                    for (int i = 0; i < rounded.length; i++) {
                        rounded[i] = Half.roundToBFloat16(rounded[i]);
                    }
                    assertArrayEquals(rounded, back.parameters().get(p.name()).value().toFloatArray(), p.name());
                }
            }
        }
    }

    @Test
    void aSavedDirectoryIsAHuggingFaceModelDirectory() throws IOException {
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1)) {
            ModelFiles.save(m, tmp, DType.FP32);
            try (var files = Files.list(tmp)) {
                assertEquals(Set.of("config.json", "model.safetensors"),
                        Set.copyOf(files.map(p -> p.getFileName().toString()).toList()));
            }
            JsonNode cfg = new ObjectMapper().readTree(tmp.resolve("config.json").toFile());
            assertEquals("llama", cfg.get("model_type").textValue());
            assertEquals("linear", cfg.get("rope_scaling").get("type").textValue());
            assertEquals(2.0, cfg.get("rope_scaling").get("factor").doubleValue());
            assertEquals(2, cfg.get("num_key_value_heads").intValue());
        }
    }
}
