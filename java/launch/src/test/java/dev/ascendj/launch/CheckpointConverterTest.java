package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.model.io.SafetensorsDtype;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.SafetensorsWriter;
import dev.ascendj.model.io.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointConverterTest {

    @TempDir
    Path dir;

    /** A 2-layer LLaMA in Hugging Face names with random bytes (the converter never interprets values). */
    private Map<String, Object[]> tinyModel(SafetensorsDtype dt) {
        Map<String, Object[]> m = new LinkedHashMap<>();
        int h = 8;
        int f = 24;
        int v = 32;
        m.put("model.embed_tokens.weight", new Object[] {dt, new long[] {v, h}});
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".";
            for (String x : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                m.put(p + "self_attn." + x + ".weight", new Object[] {dt, new long[] {h, h}});
            }
            m.put(p + "mlp.gate_proj.weight", new Object[] {dt, new long[] {f, h}});
            m.put(p + "mlp.up_proj.weight", new Object[] {dt, new long[] {f, h}});
            m.put(p + "mlp.down_proj.weight", new Object[] {dt, new long[] {h, f}});
            m.put(p + "input_layernorm.weight", new Object[] {SafetensorsDtype.F32, new long[] {h}});
            m.put(p + "post_attention_layernorm.weight", new Object[] {SafetensorsDtype.F32, new long[] {h}});
        }
        m.put("model.norm.weight", new Object[] {SafetensorsDtype.F32, new long[] {h}});
        m.put("lm_head.weight", new Object[] {dt, new long[] {v, h}});
        return m;
    }

    private Path writeHf(Map<String, Object[]> model, long seed) {
        Random rnd = new Random(seed);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, Object[]> e : model.entrySet()) {
            SafetensorsDtype dt = (SafetensorsDtype) e.getValue()[0];
            long[] shape = (long[]) e.getValue()[1];
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            byte[] b = new byte[(int) (n * dt.size())];
            rnd.nextBytes(b);
            w.addBytes(e.getKey(), dt, shape, ByteBuffer.wrap(b));
        }
        Path p = dir.resolve("hf/model.safetensors");
        w.write(p);
        return p;
    }

    private static byte[] bytes(SafetensorsFile f, String name) {
        ByteBuffer b = f.bytes(name);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    @Test
    void namesFollowMindFormers() {
        assertEquals("model.tok_embeddings.embedding_weight", CheckpointConverter.toMindSpore("model.embed_tokens.weight"));
        assertEquals("model.layers.3.attention.wq.weight", CheckpointConverter.toMindSpore("model.layers.3.self_attn.q_proj.weight"));
        assertEquals("model.layers.3.feed_forward.w1.weight", CheckpointConverter.toMindSpore("model.layers.3.mlp.gate_proj.weight"));
        assertEquals("model.layers.3.feed_forward.w2.weight", CheckpointConverter.toMindSpore("model.layers.3.mlp.down_proj.weight"));
        assertEquals("model.layers.3.feed_forward.w3.weight", CheckpointConverter.toMindSpore("model.layers.3.mlp.up_proj.weight"));
        assertEquals("model.layers.0.attention_norm.weight", CheckpointConverter.toMindSpore("model.layers.0.input_layernorm.weight"));
        assertEquals("model.layers.0.ffn_norm.weight", CheckpointConverter.toMindSpore("model.layers.0.post_attention_layernorm.weight"));
        assertEquals("model.norm_out.weight", CheckpointConverter.toMindSpore("model.norm.weight"));
        assertEquals("lm_head.weight", CheckpointConverter.toMindSpore("lm_head.weight"));
        assertNull(CheckpointConverter.toMindSpore("model.layers.0.self_attn.rotary_emb.inv_freq"));
        for (Map.Entry<String, Object[]> e : tinyModel(SafetensorsDtype.F16).entrySet()) {
            assertEquals(e.getKey(), CheckpointConverter.toHuggingFace(CheckpointConverter.toMindSpore(e.getKey())));
        }
        LaunchException x = assertThrows(LaunchException.class, () -> CheckpointConverter.toHuggingFace("adam_m.model.norm_out.weight"));
        assertTrue(x.getMessage().contains("optimizer states"), x.getMessage());
    }

    /** Bytes computed by hand from the protobuf wire format for {tag "a", dims [2], Float32, 8 bytes}. */
    @Test
    void protobufEncodingIsTheWireFormat() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MsCheckpoint.writeValue(out, "a", "Float32", new long[] {2}, ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        // Checkpoint.value (1, LEN 26) { tag (1, LEN 1) "a"; tensor (2, LEN 21) { dims (1, varint) 2;
        //   tensor_type (2, LEN 7) "Float32"; tensor_content (3, LEN 8) 01..08 } }
        assertEquals("0a1a" + "0a0161" + "1215" + "0802" + "1207" + HexFormat.of().formatHex("Float32".getBytes()) + "1a08"
                + "0102030405060708", HexFormat.of().formatHex(out.toByteArray()));
        assertEquals(1, MsCheckpoint.varintSize(127));
        assertEquals(2, MsCheckpoint.varintSize(128));
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        MsCheckpoint.writeVarint(v, 300);
        assertEquals("ac02", HexFormat.of().formatHex(v.toByteArray()));
    }

    @Test
    void readsPackedDimsAndJoinsSlices() throws Exception {
        Path f = dir.resolve("s.ckpt");
        byte[] content = new byte[40];
        new Random(3).nextBytes(content);
        try (OutputStream os = Files.newOutputStream(f)) {
            MsCheckpoint.writeValue(os, "model.norm_out.weight", "Float32", new long[] {10}, ByteBuffer.wrap(content), 16);
            // A packed-dims value (as other protobuf writers may emit): tag "b", dims packed [2, 1], Int8, 2 bytes (value 19 bytes, tensor 14).
            os.write(HexFormat.of().parseHex("0a13" + "0a0162" + "120e" + "0a020201" + "1204" + HexFormat.of().formatHex("Int8".getBytes())
                    + "1a02" + "0909"));
        }
        List<MsCheckpoint.Entry> idx = MsCheckpoint.index(f);
        assertEquals(2, idx.size());
        assertEquals(3, idx.get(0).offsets().size(), "40 bytes in slices of 16");
        assertEquals(40, idx.get(0).bytes());
        assertArrayEquals(new long[] {2, 1}, idx.get(1).dims());
        assertEquals("Int8", idx.get(1).type());
        Files.write(dir.resolve("bad.ckpt"), HexFormat.of().parseHex("0a05" + "0a0161"));
        assertThrows(LaunchException.class, () -> MsCheckpoint.index(dir.resolve("bad.ckpt")));
    }

    @Test
    void roundTripIsBitExact() throws Exception {
        for (SafetensorsDtype dt : List.of(SafetensorsDtype.F16, SafetensorsDtype.BF16, SafetensorsDtype.F32)) {
            Map<String, Object[]> model = tinyModel(dt);
            Path hf = writeHf(model, dt.ordinal());
            Path ckpt = dir.resolve(dt + "/m.ckpt");
            assertEquals(model.size(), CheckpointConverter.hfToMindSpore(hf.getParent(), ckpt));
            List<MsCheckpoint.Entry> idx = MsCheckpoint.index(ckpt);
            assertEquals("model.tok_embeddings.embedding_weight", idx.get(0).tag());
            assertEquals("model.layers.0.attention.wk.weight", idx.get(1).tag());
            assertEquals("lm_head.weight", idx.get(idx.size() - 1).tag());
            Path back = dir.resolve(dt + "/back/model.safetensors");
            assertEquals(model.size(), CheckpointConverter.mindSporeToHf(ckpt, back));
            try (SafetensorsFile a = SafetensorsFile.open(hf); SafetensorsFile b = SafetensorsFile.open(back)) {
                assertEquals(a.names().stream().sorted().toList(), b.names().stream().sorted().toList());
                for (String n : a.names()) {
                    TensorInfo ia = a.info(n);
                    TensorInfo ib = b.info(n);
                    assertEquals(ia.dtype(), ib.dtype(), n);
                    assertArrayEquals(ia.dims(), ib.dims(), n);
                    assertArrayEquals(bytes(a, n), bytes(b, n), n);
                }
            }
            // The same bytes whichever way round: hf -> ckpt -> hf gives the file SafetensorsWriter wrote first,
            // and ckpt -> hf -> ckpt the same .ckpt.
            assertArrayEquals(Files.readAllBytes(hf), Files.readAllBytes(back));
            Path ckpt2 = dir.resolve(dt + "/m2.ckpt");
            CheckpointConverter.hfToMindSpore(back, ckpt2);
            assertArrayEquals(Files.readAllBytes(ckpt), Files.readAllBytes(ckpt2));
        }
    }

    @Test
    void convertsBothWaysAndNamesANonCheckpoint() throws Exception {
        Path hf = writeHf(tinyModel(SafetensorsDtype.F16), 9);
        Path ckpt = dir.resolve("c/m.ckpt");
        assertEquals(21, CheckpointConverter.hfToMindSpore(hf, ckpt));
        assertEquals(21, CheckpointConverter.mindSporeToHf(ckpt, dir.resolve("c/out.safetensors")));
        Files.write(dir.resolve("junk.ckpt"), new byte[] {0x12, 0x00});
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CheckpointConverter.mindSporeToHf(dir.resolve("junk.ckpt"), dir.resolve("x.safetensors")));
        assertTrue(e instanceof LaunchException || e instanceof dev.ascendj.model.io.FormatException, e.toString());
        assertTrue(e.getMessage().contains("not a MindSpore checkpoint at byte"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }
}
