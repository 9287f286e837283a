package dev.ascendj.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.Nf4Footprint;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.io.FormatException;
import dev.ascendj.model.io.SafetensorsDtype;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.io.TensorInfo;
import dev.ascendj.model.layers.LoraConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quantized model directories: layout on disk, loading without dequantizing, and bad files. */
class QuantizedCheckpointTest {
    private static final CpuBackend BACKEND = new CpuBackend(1);
    private static final Device DEV = BACKEND.device(0);
    private static final Ops OPS = BACKEND.ops();
    private static final String Q = "model.layers.1.self_attn.q_proj.weight";

    @TempDir
    Path tmp;

    /** hidden 64, MLP 172 (so rows of the MLP straddle blocks), 2 layers, GQA 4/2, vocab 50. */
    private static LlamaConfig config() {
        return LlamaConfig.builder().hidden(64).intermediate(172).kvHeads(2).vocab(50).build();
    }

    private static float[] logits(LlamaModel m) {
        try (Scope s = Scope.open()) {
            Tensor ids = Tensor.fromInts(DEV, Shape.of(1, 6), 1, 7, 3, 49, 0, 12);
            return m.nextTokenLogits(OPS, ids, 1, 6, null).toFloatArray();
        }
    }

    private static byte[] bytes(Tensor t) {
        ByteBuffer b = t.toBytes();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void savedLayoutAndLoadingBackWithoutDequantizing() throws Exception {
        Path dir = tmp.resolve("q");
        float[] before;
        Map<String, byte[]> codes = new HashMap<>();
        try (LlamaModel m = LlamaModel.initialize(config(), DEV, 3, null, new Nf4Quantizer(OPS))) {
            assertTrue(m.isQuantized());
            assertEquals(14, m.quantizedWeights().size());
            assertTrue(m.trainableParameters().isEmpty(), "a quantized base is frozen");
            before = logits(m);
            m.quantizedWeights().forEach((n, w) -> codes.put(n, bytes(w.codes())));
            ModelFiles.save(m, dir, DType.FP32);
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(QuantizedCheckpoint.metadata().get("quantization"), ck.metadata().get("quantization"));
            assertEquals("64", ck.metadata().get("nf4_block_size"));
            assertEquals("256", ck.metadata().get("absmax_block_size"));
            assertFalse(ck.contains(Q), "no dense copy of a quantized weight");
            TensorInfo c = ck.info(Q + ".nf4");
            assertEquals(SafetensorsDtype.U8, c.dtype());
            assertArrayEquals(new long[] {64 * 64 / 2}, c.dims());
            assertArrayEquals(new long[] {64}, ck.info(Q + ".absmax_q").dims());
            assertArrayEquals(new long[] {1}, ck.info(Q + ".absmax_scale").dims());
            assertArrayEquals(new long[] {1}, ck.info(Q + ".absmax_offset").dims());
            String down = "model.layers.0.mlp.down_proj.weight";
            assertArrayEquals(new long[] {Nf4.blocks(64 * 172)}, ck.info(down + ".absmax_q").dims());
            assertEquals(SafetensorsDtype.F32, ck.info("model.embed_tokens.weight").dtype());
        }
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"quant_method\" : \"ascendj-nf4-dq\""));
        assertEquals(config(), LlamaConfigs.read(dir.resolve("config.json")));
        try (LlamaModel back = ModelFiles.load(dir, DEV, null, 0)) {
            assertTrue(back.isQuantized());
            for (Map.Entry<String, Nf4Weight> e : back.quantizedWeights().entrySet()) {
                assertEquals(DType.NF4, e.getValue().codes().dtype(), "loaded as NF4, not dequantized");
                assertArrayEquals(codes.get(e.getKey()), bytes(e.getValue().codes()), e.getKey());
            }
            assertArrayEquals(before, logits(back));
        }
    }

    @Test
    void sixteenBitSaveKeepsTheNormsAndEmbeddingsInBf16() {
        Path dir = tmp.resolve("bf16");
        try (LlamaModel m = LlamaModel.initialize(config(), DEV, 3, null, new Nf4Quantizer(OPS))) {
            ModelFiles.save(m, dir, DType.BF16);
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(SafetensorsDtype.BF16, ck.info("model.embed_tokens.weight").dtype());
            assertEquals(SafetensorsDtype.BF16, ck.info("lm_head.weight").dtype());
            assertEquals(SafetensorsDtype.BF16, ck.info("model.norm.weight").dtype());
            assertEquals(SafetensorsDtype.F32, ck.info(Q + ".absmax_scale").dtype(), "constants stay FP32");
        }
    }

    @Test
    void quantizingWhileLoadingGivesTheSameWeightsAsQuantizingAtInitialisation() {
        Path dense = tmp.resolve("dense");
        try (LlamaModel m = LlamaModel.initialize(config(), DEV, 3, null)) {
            ModelFiles.save(m, dense, DType.FP32);
        }
        LoraConfig lora = new LoraConfig(2, 4, 0f, LoraConfig.ALL_TARGETS);
        try (LlamaModel a = ModelFiles.load(dense, DEV, lora, 9, new Nf4Quantizer(OPS));
             LlamaModel b = LlamaModel.initialize(config(), DEV, 3, lora, new Nf4Quantizer(OPS))) {
            for (String name : a.quantizedWeights().keySet()) {
                assertArrayEquals(bytes(b.quantizedWeights().get(name).codes()),
                        bytes(a.quantizedWeights().get(name).codes()), name);
            }
            assertEquals(28, a.trainableParameters().size(), "only the adapters train");
            assertTrue(a.trainableParameters().stream().allMatch(p -> p.name().contains(".lora_")));
        }
    }

    @Test
    void aQuantizedModelHoldsNoFp32CopyOfItsLinearLayers() {
        Path dense = tmp.resolve("dense-mem");
        try (LlamaModel m = LlamaModel.initialize(config(), DEV, 3, null)) {
            ModelFiles.save(m, dense, DType.FP32);
        }
        long before = DEV.memoryInfo().usedBytes();
        try (LlamaModel a = LlamaModel.initialize(config(), DEV, 3, null, new Nf4Quantizer(OPS))) {
            Nf4Footprint f = Nf4Footprint.measure(a);
            // Each weight's FP32 mean lives on the host: 4 bytes of its footprint that the device does not hold.
            long offsets = 4L * a.quantizedWeights().size();
            assertEquals(f.totalBytes() - offsets, DEV.memoryInfo().usedBytes() - before,
                    "initialised: only NF4 + the rest");
            assertEquals(Nf4Footprint.predict(config()).quantizedBytes(), f.quantizedBytes());
            assertEquals(4 * f.otherParameters(), f.otherBytes(), "the rest is held as FP32 master copies");
        }
        assertEquals(before, DEV.memoryInfo().usedBytes());
        try (LlamaModel b = ModelFiles.load(dense, DEV, null, 0, new Nf4Quantizer(OPS))) {
            assertEquals(Nf4Footprint.measure(b).totalBytes() - 4L * b.quantizedWeights().size(),
                    DEV.memoryInfo().usedBytes() - before,
                    "quantized while loading: no dense linear weight left behind");
        }
        assertEquals(before, DEV.memoryInfo().usedBytes());
    }

    @Test
    void mergingAdaptersIntoNf4WeightsIsRefused() {
        LoraConfig lora = new LoraConfig(2, 4, 0f, LoraConfig.ALL_TARGETS);
        try (LlamaModel m = LlamaModel.initialize(config(), DEV, 3, lora, new Nf4Quantizer(OPS))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelFiles.mergeAdapters(m, OPS));
            assertTrue(e.getMessage().contains("NF4"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ bad files

    /** A copy of the quantized model directory with {@code edit} applied to its tensors and metadata. */
    private Path corrupted(String name, Consumer<Edit> edit) throws Exception {
        Path good = tmp.resolve("good");
        if (!Files.exists(good)) {
            try (LlamaModel m = LlamaModel.initialize(config(), DEV, 3, null, new Nf4Quantizer(OPS))) {
                ModelFiles.save(m, good, DType.FP32);
            }
        }
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.copy(good.resolve("config.json"), dir.resolve("config.json"));
        Edit e = new Edit();
        try (Checkpoint ck = Checkpoint.open(good)) {
            e.metadata.putAll(ck.metadata());
            for (String n : ck.names()) {
                TensorInfo info = ck.info(n);
                e.tensors.put(n, new Raw(info.dtype(), info.dims(), ck.bytes(n)));
            }
            edit.accept(e);
            SafetensorsWriter w = new SafetensorsWriter().metadata(e.metadata);
            e.tensors.forEach((n, r) -> w.addBytes(n, r.dtype, r.dims, r.data));
            w.write(dir.resolve(SafetensorsWriter.SINGLE_FILE));
        }
        return dir;
    }

    private record Raw(SafetensorsDtype dtype, long[] dims, ByteBuffer data) {
    }

    private static final class Edit {
        final Map<String, String> metadata = new java.util.LinkedHashMap<>();
        final Map<String, Raw> tensors = new java.util.LinkedHashMap<>();

        void put(String name, SafetensorsDtype dtype, byte[] data) {
            tensors.put(name, new Raw(dtype, new long[] {data.length / dtype.size()}, ByteBuffer.wrap(data)));
        }
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private void assertRejected(Path dir, String... fragments) {
        FormatException e = assertThrows(FormatException.class, () -> ModelFiles.load(dir, DEV, null, 0).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void absmaxCodesThatDoNotMatchTheWeightAreRejected() throws Exception {
        Path dir = corrupted("codes", e -> e.put(Q + ".absmax_q", SafetensorsDtype.U8, new byte[63]));
        assertRejected(dir, Q + ".absmax_q", "[63]", "U8 [64]", "64 blocks of 64");
    }

    @Test
    void scalesThatDoNotMatchTheWeightAreRejected() throws Exception {
        Path dir = corrupted("scales", e -> e.put(Q + ".absmax_scale", SafetensorsDtype.F32, floats(1f, 1f)));
        assertRejected(dir, Q + ".absmax_scale", "F32 [1]", "groups of 256 blocks");
    }

    @Test
    void packedCodesOfTheWrongLengthAreRejected() throws Exception {
        Path dir = corrupted("nf4", e -> e.put(Q + ".nf4", SafetensorsDtype.U8, new byte[64 * 64]));
        assertRejected(dir, Q + ".nf4", "[4096]", "U8 [2048]", "two 4-bit codes");
    }

    @Test
    void negativeOrNaNScalesAndOffsetsAreRejected() throws Exception {
        assertRejected(corrupted("negative", e -> e.put(Q + ".absmax_scale", SafetensorsDtype.F32, floats(-0.5f))),
                Q + ".absmax_scale", "-0.5", "never negative");
        assertRejected(corrupted("nanscale", e -> e.put(Q + ".absmax_scale", SafetensorsDtype.F32, floats(Float.NaN))),
                Q + ".absmax_scale", "NaN");
        assertRejected(corrupted("nanoffset", e -> e.put(Q + ".absmax_offset", SafetensorsDtype.F32, floats(Float.NaN))),
                Q + ".absmax_offset", "must be finite");
    }

    @Test
    void otherBlockSizesAndMissingOrDuplicatedTensorsAreRejected() throws Exception {
        assertRejected(corrupted("block", e -> e.metadata.put("nf4_block_size", "32")),
                "nf4_block_size is '32'", "'64' only");
        assertRejected(corrupted("missing", e -> e.tensors.remove(Q + ".absmax_offset")),
                Q + ".absmax_offset", "missing");
        assertRejected(corrupted("both", e -> e.put(Q, SafetensorsDtype.F32, new byte[4 * 64 * 64])),
                "stored both dense and quantized");
        assertRejected(corrupted("extra", e -> e.put("model.layers.0.mlp.gate_proj.weight.extra", SafetensorsDtype.U8,
                new byte[1])), "unexpected for a LLaMA model");
    }
}
