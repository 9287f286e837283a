package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.core.Half;
import dev.ascendj.model.io.SafetensorsDtype;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A MindFormers run's output built here from the documented formats, not from the converter: each
 * rank's checkpoint holds the block the layout gives it, written out by hand below for each
 * layout (rows or columns by tensor-parallel rank, quarters by optimizer-shard rank, stages by
 * pipeline rank), next to optimizer moments and bookkeeping scalars; the strategy files are
 * {@code ParallelStrategyMap} messages. The converter must give back the Hugging Face model bit
 * for bit, and slice it again into the same per-rank blocks.
 */
class MindFormersCheckpointTest {

    @TempDir
    Path dir;

    static final int H = 8;
    static final int F = 16;
    static final int V = 32;
    static final int LORA_R = 2;

    /** The layouts of the fixtures: 4 ranks each. */
    enum Case { DP_ONLY, TP, PP, OPT_SHARD, TP_AND_OPT_SHARD }

    /** How a parameter is split in the fixtures. */
    enum Split { NONE, ROWS, COLS }

    record Param(String ms, String hf, long[] shape, Split split) {
    }

    static List<Param> params(boolean lora) {
        List<Param> p = new ArrayList<>();
        p.add(new Param("model.tok_embeddings.embedding_weight", "model.embed_tokens.weight", new long[] {V, H}, Split.NONE));
        for (int l = 0; l < 2; l++) {
            String m = "model.layers." + l + ".";
            String h = "model.layers." + l + ".";
            p.add(new Param(m + "attention.wq.weight", h + "self_attn.q_proj.weight", new long[] {H, H}, Split.ROWS));
            p.add(new Param(m + "attention.wk.weight", h + "self_attn.k_proj.weight", new long[] {H, H}, Split.ROWS));
            p.add(new Param(m + "attention.wv.weight", h + "self_attn.v_proj.weight", new long[] {H, H}, Split.ROWS));
            p.add(new Param(m + "attention.wo.weight", h + "self_attn.o_proj.weight", new long[] {H, H}, Split.COLS));
            p.add(new Param(m + "feed_forward.w1.weight", h + "mlp.gate_proj.weight", new long[] {F, H}, Split.ROWS));
            p.add(new Param(m + "feed_forward.w3.weight", h + "mlp.up_proj.weight", new long[] {F, H}, Split.ROWS));
            p.add(new Param(m + "feed_forward.w2.weight", h + "mlp.down_proj.weight", new long[] {H, F}, Split.COLS));
            p.add(new Param(m + "attention_norm.weight", h + "input_layernorm.weight", new long[] {H}, Split.NONE));
            p.add(new Param(m + "ffn_norm.weight", h + "post_attention_layernorm.weight", new long[] {H}, Split.NONE));
            if (lora) {
                p.add(new Param(m + "attention.wq.mindpet_delta_lora_a", h + "self_attn.q_proj.lora_A.weight", new long[] {LORA_R, H},
                        Split.NONE));
                p.add(new Param(m + "attention.wq.mindpet_delta_lora_b", h + "self_attn.q_proj.lora_B.weight", new long[] {H, LORA_R},
                        Split.ROWS));
            }
        }
        p.add(new Param("model.norm_out.weight", "model.norm.weight", new long[] {H}, Split.NONE));
        p.add(new Param("lm_head.weight", "lm_head.weight", new long[] {V, H}, Split.ROWS));
        return p;
    }

    /** Stage of a parameter in the pipeline case: embedding and layer 0 first, the rest second. */
    static int stage(Param p) {
        return p.ms().startsWith("model.tok_embeddings") || p.ms().startsWith("model.layers.0.") ? 0 : 1;
    }

    /** The layout the strategy file gives a parameter in each case (device matrix [dp, tp], tp last). */
    static StrategyFile.Layout layout(Case c, Param p) {
        int nd = p.shape().length;
        List<Integer> none = nd == 1 ? List.of(-1) : List.of(-1, -1);
        List<Integer> tpMap = switch (p.split()) {
            case NONE -> none;
            case ROWS -> List.of(0, -1);
            case COLS -> List.of(-1, 0);
        };
        return switch (c) {
            case DP_ONLY -> StrategyFile.Layout.of(List.of(4, 1), none);
            case TP -> StrategyFile.Layout.of(List.of(2, 2), tpMap);
            case PP -> StrategyFile.Layout.of(List.of(2, 1), none);
            case OPT_SHARD -> StrategyFile.Layout.of(List.of(4, 1), none).withOptShard(1, p.ms().contains("norm") ? -1 : 4);
            case TP_AND_OPT_SHARD -> StrategyFile.Layout.of(List.of(2, 2), tpMap).withOptShard(p.split() == Split.NONE ? 1 : 2,
                    p.split() == Split.NONE ? 4 : 2);
        };
    }

    /** The ranks holding a parameter. */
    static List<Integer> holders(Case c, Param p) {
        return c == Case.PP ? (stage(p) == 0 ? List.of(0, 1) : List.of(2, 3)) : List.of(0, 1, 2, 3);
    }

    /**
     * The rows and columns rank {@code r} holds, written out per case from what each layout means:
     * tensor-parallel rank t = r mod 2 takes half of the split dimension; an optimizer shard
     * takes a further part of the rows, by data-parallel rank.
     */
    static int[] block(Case c, Param p, int r) {
        int rows = (int) p.shape()[0];
        int cols = p.shape().length == 2 ? (int) p.shape()[1] : 1;
        int t = r % 2;
        int d = r / 2;
        return switch (c) {
            case DP_ONLY, PP -> new int[] {0, rows, 0, cols};
            case TP -> switch (p.split()) {
                case NONE -> new int[] {0, rows, 0, cols};
                case ROWS -> new int[] {t * rows / 2, (t + 1) * rows / 2, 0, cols};
                case COLS -> new int[] {0, rows, t * cols / 2, (t + 1) * cols / 2};
            };
            case OPT_SHARD -> new int[] {r * rows / 4, (r + 1) * rows / 4, 0, cols};
            case TP_AND_OPT_SHARD -> switch (p.split()) {
                case NONE -> new int[] {r * rows / 4, (r + 1) * rows / 4, 0, cols};
                case ROWS -> new int[] {(t * 2 + d) * rows / 4, (t * 2 + d + 1) * rows / 4, 0, cols};
                case COLS -> new int[] {d * rows / 2, (d + 1) * rows / 2, t * cols / 2, (t + 1) * cols / 2};
            };
        };
    }

    static byte[] cut(byte[] full, long[] shape, int[] b, int elem) {
        int cols = shape.length == 2 ? (int) shape[1] : 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int row = b[0]; row < b[1]; row++) {
            out.write(full, (row * cols + b[2]) * elem, (b[3] - b[2]) * elem);
        }
        return out.toByteArray();
    }

    static long[] blockShape(long[] shape, int[] b) {
        return shape.length == 2 ? new long[] {b[1] - b[0], b[3] - b[2]} : new long[] {b[1] - b[0]};
    }

    /** Random FP16 weights with finite values (so merged LoRA can be checked numerically too). */
    static Map<String, byte[]> weights(List<Param> params, long seed) {
        Random rnd = new Random(seed);
        Map<String, byte[]> w = new LinkedHashMap<>();
        for (Param p : params) {
            int n = (int) MindFormersCheckpoint.numel(p.shape());
            ByteBuffer b = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                b.putShort(Half.floatToHalf((float) rnd.nextGaussian() * 0.5f));
            }
            w.put(p.ms(), b.array());
        }
        return w;
    }

    /** Writes a MindFormers-style output directory: checkpoint/rank_N/ with moments and bookkeeping, strategy/ per rank. */
    static Path writeRun(Path out, Case c, List<Param> params, Map<String, byte[]> w) throws IOException {
        for (int r = 0; r < 4; r++) {
            Path ck = out.resolve("checkpoint/rank_" + r + "/llama2_7b_rank_" + r + "-2_100.ckpt");
            Files.createDirectories(ck.getParent());
            Map<String, StrategyFile.Layout> strategy = new LinkedHashMap<>();
            try (var os = new java.io.BufferedOutputStream(Files.newOutputStream(ck))) {
                for (Param p : params) {
                    List<Integer> h = holders(c, p);
                    if (!h.contains(r)) {
                        continue;
                    }
                    int local = h.indexOf(r);
                    int[] b = block(c, p, c == Case.PP ? local : r);
                    byte[] slice = cut(w.get(p.ms()), p.shape(), b, 2);
                    MsCheckpoint.writeValue(os, p.ms(), "Float16", blockShape(p.shape(), b), ByteBuffer.wrap(slice));
                    byte[] moment = new byte[slice.length * 2];
                    new Random(r * 31L + p.ms().hashCode()).nextBytes(moment);
                    MsCheckpoint.writeValue(os, "adam_m." + p.ms(), "Float32", blockShape(p.shape(), b), ByteBuffer.wrap(moment));
                    MsCheckpoint.writeValue(os, "adam_v." + p.ms(), "Float32", blockShape(p.shape(), b), ByteBuffer.wrap(moment));
                    strategy.put(p.ms(), layout(c, p));
                    strategy.put("adam_m." + p.ms(), layout(c, p));
                }
                MsCheckpoint.writeValue(os, "global_step", "Int32", new long[] {1}, ByteBuffer.allocate(4).putInt(0, 100));
                MsCheckpoint.writeValue(os, "scale_sense", "Float32", new long[] {}, ByteBuffer.allocate(4).putFloat(0, 65536f));
            }
            Path st = out.resolve("strategy/ckpt_strategy_rank_" + r + ".ckpt");
            Files.createDirectories(st.getParent());
            Files.write(st, StrategyFile.encode(c == Case.PP ? r / 2 : 0, strategy));
        }
        return out;
    }

    static Path writeHf(Path file, List<Param> params, Map<String, byte[]> w) {
        SafetensorsWriter sw = new SafetensorsWriter().metadata("format", "pt");
        for (Param p : params) {
            if (!p.ms().contains("mindpet")) {
                sw.addBytes(p.hf(), SafetensorsDtype.F16, p.shape(), ByteBuffer.wrap(w.get(p.ms())));
            }
        }
        sw.write(file);
        return file;
    }

    static byte[] bytes(SafetensorsFile f, String name) {
        ByteBuffer b = f.bytes(name);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    @ParameterizedTest
    @EnumSource(Case.class)
    void aRunsSlicesMergeBackToTheHuggingFaceModelBitForBit(Case c) throws IOException {
        List<Param> params = params(false);
        Map<String, byte[]> w = weights(params, c.ordinal());
        Path run = writeRun(dir.resolve("output"), c, params, w);
        MindFormersCheckpoint.Result r = MindFormersCheckpoint.open(run, null, null)
                .toHuggingFace(dir.resolve("hf"), new MindFormersCheckpoint.Options(false, null, null, null));
        assertEquals(params.size(), r.tensors());
        assertTrue(r.dropped().containsAll(List.of("adam_m.lm_head.weight", "adam_v.model.norm_out.weight", "global_step", "scale_sense")),
                r.dropped().toString());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("hf/model.safetensors"))) {
            assertEquals(params.size(), f.names().size(), "only weights: " + f.names());
            for (Param p : params) {
                assertArrayEquals(w.get(p.ms()), bytes(f, p.hf()), c + " " + p.hf());
                assertArrayEquals(p.shape(), f.info(p.hf()).dims());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Case.class)
    void hfToShardedGivesEachRankTheBlockItsStrategyNames(Case c) throws IOException {
        List<Param> params = params(false);
        Map<String, byte[]> w = weights(params, 10 + c.ordinal());
        Path run = writeRun(dir.resolve("output"), c, params, w);
        Path hf = writeHf(dir.resolve("model.safetensors"), params, w);
        assertEquals(4, CheckpointConverter.hfToSharded(hf, run.resolve("strategy"), dir.resolve("sharded"), null));
        for (int r = 0; r < 4; r++) {
            Path ck = dir.resolve("sharded/rank_" + r + "/checkpoint_" + r + ".ckpt");
            Map<String, MsCheckpoint.Entry> idx = new LinkedHashMap<>();
            MsCheckpoint.index(ck).forEach(e -> idx.put(e.tag(), e));
            int held = 0;
            for (Param p : params) {
                List<Integer> h = holders(c, p);
                if (!h.contains(r)) {
                    assertFalse(idx.containsKey(p.ms()), p.ms() + " on rank " + r);
                    continue;
                }
                held++;
                int[] b = block(c, p, c == Case.PP ? h.indexOf(r) : r);
                MsCheckpoint.Entry e = idx.get(p.ms());
                assertArrayEquals(blockShape(p.shape(), b), e.dims(), c + " rank " + r + " " + p.ms());
                byte[] got = new byte[(int) e.bytes()];
                MindFormersCheckpoint.content(ck, e).get(got);
                assertArrayEquals(cut(w.get(p.ms()), p.shape(), b, 2), got, c + " rank " + r + " " + p.ms());
            }
            assertEquals(held, idx.size());
        }
        // And the pre-sharded directory converts back.
        MindFormersCheckpoint.open(dir.resolve("sharded"), run.resolve("strategy"), null)
                .toHuggingFace(dir.resolve("back"), new MindFormersCheckpoint.Options(false, null, null, null));
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("back/model.safetensors"))) {
            for (Param p : params) {
                assertArrayEquals(w.get(p.ms()), bytes(f, p.hf()), p.hf());
            }
        }
    }

    @Test
    void aLoraRunBecomesAPeftAdapterOrMergedWeights() throws IOException {
        List<Param> params = params(true);
        Map<String, byte[]> w = weights(params, 99);
        Path run = writeRun(dir.resolve("output"), Case.TP, params, w);
        var r = MindFormersCheckpoint.open(run, null, null).toHuggingFace(dir.resolve("adapter"),
                new MindFormersCheckpoint.Options(false, 16, null, "meta-llama/Llama-2-7b-hf"));
        assertEquals(2, r.loraPairs());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter/adapter_model.safetensors"))) {
            for (Param p : params) {
                if (p.ms().contains("mindpet")) {
                    assertArrayEquals(w.get(p.ms()), bytes(f, "base_model.model." + p.hf()), p.hf());
                }
            }
            assertEquals(4, f.names().size());
        }
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter/adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(LORA_R, cfg.get("r").asInt());
        assertEquals(16, cfg.get("lora_alpha").asInt());
        assertEquals("[\"q_proj\"]", cfg.get("target_modules").toString());

        MindFormersCheckpoint.open(run, null, null).toHuggingFace(dir.resolve("merged"),
                new MindFormersCheckpoint.Options(true, 16, "{}", null));
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("merged/model.safetensors"))) {
            assertFalse(f.names().stream().anyMatch(n -> n.contains("lora")), f.names().toString());
            ByteBuffer a = ByteBuffer.wrap(w.get("model.layers.1.attention.wq.mindpet_delta_lora_a")).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer b = ByteBuffer.wrap(w.get("model.layers.1.attention.wq.mindpet_delta_lora_b")).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer base = ByteBuffer.wrap(w.get("model.layers.1.attention.wq.weight")).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer got = f.bytes("model.layers.1.self_attn.q_proj.weight").order(ByteOrder.LITTLE_ENDIAN);
            double scale = 16.0 / LORA_R;
            for (int o = 0; o < H; o++) {
                for (int i = 0; i < H; i++) {
                    double d = Half.halfToFloat(base.getShort((o * H + i) * 2));
                    for (int k = 0; k < LORA_R; k++) {
                        d += scale * Half.halfToFloat(b.getShort((o * LORA_R + k) * 2)) * Half.halfToFloat(a.getShort((k * H + i) * 2));
                    }
                    float m = Half.halfToFloat(got.getShort((o * H + i) * 2));
                    // One rounding to FP16 of a float32 sum: within one FP16 step of the exact value.
                    assertEquals(d, m, Math.ulp((float) d) * 8192 * 1.01, "W'[" + o + "][" + i + "]");
                }
            }
            ByteBuffer untouched = f.bytes("model.layers.1.self_attn.k_proj.weight");
            byte[] k = new byte[untouched.remaining()];
            untouched.get(k);
            assertArrayEquals(w.get("model.layers.1.attention.wk.weight"), k);
        }
        assertTrue(Files.exists(dir.resolve("merged/config.json")));
    }

    @Test
    void convertsARunDirectoryAndNamesAMissingOne() throws IOException {
        List<Param> params = params(false);
        Path run = writeRun(dir.resolve("output"), Case.TP_AND_OPT_SHARD, params, weights(params, 3));
        var r = MindFormersCheckpoint.open(run, null, null).toHuggingFace(dir.resolve("hf"),
                new MindFormersCheckpoint.Options(false, null, null, null));
        assertEquals(params.size(), r.tensors());
        assertEquals(params.size() * 2 + 2, r.dropped().size(), "optimizer and bookkeeping entries: " + r.dropped());
        assertTrue(Files.exists(dir.resolve("hf/model.safetensors")));
        LaunchException bad = assertThrows(LaunchException.class, () -> MindFormersCheckpoint.open(dir.resolve("none"), null, null));
        assertTrue(bad.getMessage().contains("none: no such directory"), bad.getMessage());
    }

    @Test
    void badRunsAreRefusedWithTheFileAndTheProblem() throws IOException {
        List<Param> params = params(false);
        Map<String, byte[]> w = weights(params, 5);
        Path run = writeRun(dir.resolve("output"), Case.TP, params, w);
        Files.delete(run.resolve("checkpoint/rank_2/llama2_7b_rank_2-2_100.ckpt"));
        LaunchException e = assertThrows(LaunchException.class, () -> MindFormersCheckpoint.open(run, null, null));
        assertTrue(e.getMessage().contains("rank_2/ has no checkpoint of step 2_100, the latest of the others"), e.getMessage());
        Path run2 = writeRun(dir.resolve("output2"), Case.TP, params, w);
        Files.write(run2.resolve("strategy/ckpt_strategy_rank_0.ckpt"), new byte[] {0x1A, 0x7F, 0x01});
        e = assertThrows(LaunchException.class, () -> MindFormersCheckpoint.open(run2, null, null));
        assertTrue(e.getMessage().contains("ckpt_strategy_rank_0.ckpt: not a MindSpore strategy file"), e.getMessage());
        Path run3 = writeRun(dir.resolve("output3"), Case.TP, params, w);
        Files.delete(run3.resolve("checkpoint/rank_3/llama2_7b_rank_3-2_100.ckpt"));
        Files.delete(run3.resolve("checkpoint/rank_3"));
        e = assertThrows(LaunchException.class, () -> MindFormersCheckpoint.open(run3, null, null)
                .toHuggingFace(dir.resolve("x"), new MindFormersCheckpoint.Options(false, null, null, null)));
        assertTrue(e.getMessage().contains("is in 3 ranks' checkpoints, but its strategy spreads it over 4 ranks"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x/model.safetensors")));
    }

    @Test
    void strategyFilesRoundTripWithNegativeTensorMapEntries() {
        Map<String, StrategyFile.Layout> m = new LinkedHashMap<>();
        m.put("a", StrategyFile.Layout.of(List.of(2, 4), List.of(-1, 0)).withOptShard(4, -1));
        m.put("b", StrategyFile.Layout.of(List.of(8), List.of(-1)));
        assertEquals(m, StrategyFile.decode(StrategyFile.encode(1, m), "s"));
    }

    /**
     * BF16 sources cast to FP16 once, through float32, rounding to nearest even: the expected bits
     * were computed with NumPy 2.4 ({@code bf16 bits << 16} viewed as float32, {@code astype(float16)}).
     */
    @Test
    void hfToMindSporeCastsBf16ToFloat16AsUpstream() throws IOException {
        short[] bf = {0x3F80, 0x3DCD, 0x477F, (short) 0x47C3, 0x3380, 0x3F81, (short) 0xBF80, 0x7FC0, 0x0001};
        short[] fp16 = {0x3C00, 0x2E68, 0x7BF8, 0x7C00, 0x0001, 0x3C08, (short) 0xBC00, 0x7E00, 0x0000};
        ByteBuffer b = ByteBuffer.allocate(bf.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bf) {
            b.putShort(s);
        }
        Path hf = dir.resolve("m.safetensors");
        new SafetensorsWriter().metadata("format", "pt").addBytes("model.norm.weight", SafetensorsDtype.BF16, new long[] {bf.length}, b.flip())
                .write(hf);
        Path out = dir.resolve("m.ckpt");
        assertEquals(1, CheckpointConverter.hfToMindSpore(hf, out, "float16"));
        MsCheckpoint.Entry e = MsCheckpoint.index(out).get(0);
        assertEquals("model.norm_out.weight", e.tag());
        assertEquals("Float16", e.type());
        ByteBuffer got = MindFormersCheckpoint.content(out, e);
        for (int i = 0; i < bf.length; i++) {
            assertEquals(fp16[i], got.getShort(i * 2), "element " + i);
        }
        assertThrows(LaunchException.class, () -> CheckpointConverter.hfToMindSpore(hf, dir.resolve("n.ckpt"), "int4"));
        assertTrue(Files.list(dir).noneMatch(p -> p.getFileName().toString().startsWith(".ascendj")), "scratch files left");
    }
}
