package dev.ascendj.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.cpu.CpuBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static CpuBackend backend;
    private static Device dev;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(1);
        dev = backend.device(0);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    /** Six small tensors of 48..96 bytes with distinct values. */
    private static Map<String, float[]> weights() {
        Map<String, float[]> w = new HashMap<>();
        for (int layer = 0; layer < 3; layer++) {
            float[] q = new float[12 + 6 * layer];
            float[] k = new float[24];
            for (int i = 0; i < q.length; i++) {
                q[i] = layer * 100 + i;
            }
            for (int i = 0; i < k.length; i++) {
                k[i] = -(layer * 100 + i);
            }
            w.put("model.layers." + layer + ".self_attn.q_proj.weight", q);
            w.put("model.layers." + layer + ".self_attn.k_proj.weight", k);
        }
        return w;
    }

    private static SafetensorsWriter writer(Map<String, float[]> w) {
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        w.forEach((name, v) -> out.add(name, Tensor.fromFloats(dev, Shape.of(v.length / 6, 6), v)));
        return out;
    }

    @Test
    void shardedWriteAndRead() throws IOException {
        Map<String, float[]> w = weights();
        List<Path> written;
        try (Scope s = Scope.open()) {
            written = writer(w).writeSharded(dir, 200);
        }
        assertEquals(dir.resolve(SafetensorsWriter.INDEX_FILE), written.get(written.size() - 1));
        int shards = written.size() - 1;
        assertTrue(shards >= 3, "expected several shards, got " + written);
        for (int i = 0; i < shards; i++) {
            assertEquals(String.format("model-%05d-of-%05d.safetensors", i + 1, shards), written.get(i).getFileName().toString());
            try (SafetensorsFile f = SafetensorsFile.open(written.get(i))) {
                long bytes = f.dataSize();
                assertTrue(bytes <= 200 || f.names().size() == 1, "shard " + i + " holds " + bytes);
                assertEquals("pt", f.metadata().get("format"));
            }
        }
        JsonNode index = StrictReader.readTree(dir.resolve(SafetensorsWriter.INDEX_FILE), StrictReader.Syntax.JSON, "index", 1 << 20);
        long total = w.values().stream().mapToLong(v -> v.length * 4L).sum();
        assertEquals(total, index.get("metadata").get("total_size").asLong());
        assertEquals(w.size(), index.get("weight_map").size());

        try (Checkpoint c = Checkpoint.open(dir); Scope s = Scope.open()) {
            assertEquals(new TreeSet<>(w.keySet()), c.names());
            assertEquals(shards, c.files().size());
            assertEquals(total, c.dataBytes());
            for (Map.Entry<String, float[]> e : w.entrySet()) {
                assertArrayEquals(e.getValue(), c.load(e.getKey(), dev).toFloatArray(), e.getKey());
                assertArrayEquals(e.getValue(), c.load(e.getKey(), dev, DType.BF16).toFloatArray(), e.getKey());
            }
            assertThrows(FormatException.class, () -> c.info("lm_head.weight"));
        }
        try (Checkpoint c = Checkpoint.open(dir.resolve(SafetensorsWriter.INDEX_FILE))) {
            assertEquals(w.size(), c.size());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void singleShardIsOneFileAndReplacesAStaleIndex() throws IOException {
        Map<String, float[]> w = weights();
        try (Scope s = Scope.open()) {
            writer(w).writeSharded(dir, 100);
            assertTrue(Files.exists(dir.resolve(SafetensorsWriter.INDEX_FILE)));
            List<Path> written = writer(w).writeSharded(dir, 1 << 20);
            assertEquals(List.of(dir.resolve(SafetensorsWriter.SINGLE_FILE)), written);
        }
        assertFalse(Files.exists(dir.resolve(SafetensorsWriter.INDEX_FILE)));
        try (Checkpoint c = Checkpoint.open(dir); Scope s = Scope.open()) {
            assertEquals(1, c.files().size());
            assertEquals(w.size(), c.size());
            String name = "model.layers.2.self_attn.q_proj.weight";
            assertArrayEquals(w.get(name), c.load(name, dev).toFloatArray());
        }
        try (Checkpoint c = Checkpoint.open(dir.resolve(SafetensorsWriter.SINGLE_FILE))) {
            assertEquals(w.size(), c.size());
        }
        // and back to shards: the single file goes away
        try (Scope s = Scope.open()) {
            writer(w).writeSharded(dir, 100);
        }
        assertFalse(Files.exists(dir.resolve(SafetensorsWriter.SINGLE_FILE)));
    }

    private static void contains(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
        }
    }

    private Path index(String json) throws IOException {
        Path f = dir.resolve(SafetensorsWriter.INDEX_FILE);
        Files.writeString(f, json);
        return f;
    }

    @Test
    void hostileShardPaths() throws IOException {
        String[][] cases = {
            {"/etc/passwd", "is an absolute path"},
            {"../outside.safetensors", "'..' segment"},
            {"sub/../../outside.safetensors", "'..' segment"},
            {"C:\\\\Windows\\\\x.safetensors", "is an absolute path"},
            {"sub\\\\x.safetensors", "contains a backslash"},
            {"", "is empty"},
            {"sub//x.safetensors", "empty or '.' path segment"},
            {"./x.safetensors", "empty or '.' path segment"},
            {"x\\u0000.safetensors", "NUL"},
        };
        for (String[] c : cases) {
            Path f = index("{\"weight_map\": {\"w\": \"" + c[0] + "\"}}");
            FormatException e = assertThrows(FormatException.class, () -> Checkpoint.open(dir), c[0]);
            contains(e, f.toString(), "tensor 'w'", "shard file name", c[1]);
        }
    }

    @Test
    void malformedIndexes() throws IOException {
        Path f = index("{\"weight_map\": [\"a\"]}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), f.toString(),
                "weight_map is array, expected an object");
        index("{\"metadata\": {}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "weight_map is missing");
        index("{\"weight_map\": {}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "weight_map is empty");
        index("{\"weight_map\": {\"w\": 3}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "tensor 'w'",
                "weight_map value is a JSON number");
        index("{\"weight_map\": {\"w\": \"a.safetensors\", \"w\": \"b.safetensors\"}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "index is not valid JSON",
                "key 'w' appears twice");
        index("{\"metadata\": {\"total_size\": \"big\"}, \"weight_map\": {\"w\": \"a.safetensors\"}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "metadata.total_size is \"big\"");
        index("not json");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "index is not valid JSON");
        index("{\"weight_map\": {\"w\": \"missing.safetensors\"}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "shard 'missing.safetensors'",
                "does not exist");
    }

    @Test
    void indexNamingATensorItsShardLacks() throws IOException {
        try (Scope s = Scope.open()) {
            new SafetensorsWriter().add("a", Tensor.fromFloats(dev, Shape.of(1), 1))
                    .write(dir.resolve("model-00001-of-00001.safetensors"));
        }
        index("{\"weight_map\": {\"a\": \"model-00001-of-00001.safetensors\", \"b\": \"model-00001-of-00001.safetensors\"}}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "tensor 'b'",
                "is mapped to shard model-00001-of-00001.safetensors, which does not contain it");
        // a broken shard is reported with its own name
        Files.write(dir.resolve("model-00001-of-00001.safetensors"), new byte[] {1, 2});
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "model-00001-of-00001.safetensors",
                "too short");
    }

    @Test
    void directoriesThatHoldNoOrTwoCheckpoints() throws IOException {
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "holds neither");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir.resolve("nothing"))), "no such file");
        Files.writeString(dir.resolve(SafetensorsWriter.SINGLE_FILE), "");
        Files.writeString(dir.resolve(SafetensorsWriter.INDEX_FILE), "{}");
        contains(assertThrows(FormatException.class, () -> Checkpoint.open(dir)), "holds both");
    }
}
