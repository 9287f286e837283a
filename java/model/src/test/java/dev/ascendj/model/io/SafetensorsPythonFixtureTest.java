package dev.ascendj.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.cpu.CpuBackend;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads files written by tools/make_safetensors_fixture.py (a hand-written writer in Python with
 * values and FP16/BF16 rounding from PyTorch) and checks every value.
 */
class SafetensorsPythonFixtureTest {
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

    static Path resource(String name) {
        try {
            return Path.of(SafetensorsPythonFixtureTest.class.getResource("/safetensors/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double value(JsonNode v) {
        if (v.isTextual()) {
            return v.textValue().equals("inf") ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        }
        return v.doubleValue();
    }

    @Test
    void everyTensorHasTheValuesPyTorchWrote() {
        Path file = resource("torch-fixture.safetensors");
        JsonNode expected = StrictReader.readTree(resource("torch-fixture.expected.json"), StrictReader.Syntax.JSON, "expectations", 1 << 20)
                .get("tensors");
        try (SafetensorsFile f = SafetensorsFile.open(file); Scope s = Scope.open()) {
            assertEquals(Map.of("format", "pt", "producer", "tools/make_safetensors_fixture.py"), f.metadata());
            assertEquals(expected.size(), f.names().size());
            for (Map.Entry<String, JsonNode> e : expected.properties()) {
                String name = e.getKey();
                JsonNode exp = e.getValue();
                TensorInfo info = f.info(name);
                assertEquals(exp.get("dtype").textValue(), info.dtype().name(), name);
                long[] shape = new long[exp.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = exp.get("shape").get(i).longValue();
                }
                assertArrayEquals(shape, info.dims(), name);
                JsonNode vals = exp.get("values");
                if (info.dtype().isFloatingPoint()) {
                    float[] got = f.load(name, dev, DType.FP32).toFloatArray();
                    assertEquals(vals.size(), got.length, name);
                    for (int i = 0; i < got.length; i++) {
                        // F16/BF16/F32 values are exact in FP32; F64 ones round once
                        assertEquals((float) value(vals.get(i)), got[i], name + "[" + i + "]");
                        if (value(vals.get(i)) == 0) {
                            assertEquals(Math.copySign(1.0, value(vals.get(i))), Math.copySign(1.0, got[i]), "sign of zero");
                        }
                    }
                } else {
                    long[] got = f.load(name, dev, info.dtype() == SafetensorsDtype.U8 ? DType.INT32 : DType.INT64)
                            .toLongArray();
                    assertEquals(vals.size(), got.length, name);
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(vals.get(i).longValue(), got[i], name + "[" + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void ourRoundingMatchesPyTorchBitForBit() {
        try (SafetensorsFile f = SafetensorsFile.open(resource("torch-fixture.safetensors")); Scope s = Scope.open()) {
            assertEquals(f.bytes("model.embed_tokens.weight"), f.load("lm_head.weight", dev, DType.FP16).toBytes());
            assertEquals(f.bytes("lm_head.weight.bf16"), f.load("lm_head.weight", dev, DType.BF16).toBytes());
            assertEquals(f.bytes("special.f16"), f.load("special.f32", dev, DType.FP16).toBytes());
            assertEquals(f.bytes("special.bf16"), f.load("special.f32", dev, DType.BF16).toBytes());
        }
    }

    @Test
    void rewritingThePythonFileKeepsEveryByteOfEveryTensor() {
        Path copy = dir.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(resource("torch-fixture.safetensors"))) {
            SafetensorsWriter w = new SafetensorsWriter().metadata(f.metadata());
            for (TensorInfo t : f.tensors()) {
                w.addBytes(t.name(), t.dtype(), t.dims(), f.bytes(t.name()));
            }
            w.write(copy);
            try (SafetensorsFile c = SafetensorsFile.open(copy)) {
                assertEquals(f.metadata(), c.metadata());
                for (TensorInfo t : f.tensors()) {
                    assertEquals(f.bytes(t.name()), c.bytes(t.name()), t.name());
                    assertArrayEquals(t.dims(), c.info(t.name()).dims());
                }
            }
        }
    }

    @Test
    void shardedCheckpointFromPython() {
        Path sharded = resource("sharded/model.safetensors.index.json").getParent();
        JsonNode expected = StrictReader.readTree(sharded.resolve("expected.json"), StrictReader.Syntax.JSON, "expectations", 1 << 20);
        try (Checkpoint c = Checkpoint.open(sharded); Scope s = Scope.open()) {
            assertEquals(2, c.files().size());
            assertEquals(expected.size(), c.size());
            for (Map.Entry<String, JsonNode> e : expected.properties()) {
                Tensor t = c.load(e.getKey(), dev);
                assertEquals(DType.BF16, t.dtype());
                float[] got = t.toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    assertEquals((float) e.getValue().get(i).doubleValue(), got[i], e.getKey() + "[" + i + "]");
                }
            }
        }
    }
}
