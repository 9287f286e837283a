package dev.ascendj.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a safetensors file can be wrong gives a FormatException naming the file, the tensor and the problem. */
class SafetensorsMalformedTest {
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

    private FormatException fails(Path file) {
        FormatException e = assertThrows(FormatException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        assertEquals(file, e.file());
        return e;
    }

    private static void contains(FormatException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
        }
    }

    private Path file(String header, byte[] data) throws IOException {
        return RawSafetensors.write(dir.resolve("bad.safetensors"), header, data);
    }

    @Test
    void missingFile() {
        contains(fails(dir.resolve("nope.safetensors")), "no such file");
    }

    @Test
    void shorterThanTheLengthField() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        contains(fails(f), "3 bytes long", "too short");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("t.safetensors"), 1000, "{}".getBytes(), new byte[0]);
        contains(fails(f), "header length 1000 goes beyond the end of the file (10 bytes)", "truncated");
    }

    @Test
    void absurdHeaderLengths() throws IOException {
        Path huge = RawSafetensors.write(dir.resolve("huge.safetensors"), 1L << 40, "{}".getBytes(), new byte[0]);
        contains(fails(huge), "header length 1099511627776 exceeds the limit of 100000000 bytes");
        Path negative = RawSafetensors.write(dir.resolve("neg.safetensors"), -1L, "{}".getBytes(), new byte[0]);
        contains(fails(negative), "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void headerNotJson() throws IOException {
        contains(fails(file("{\"a\": {\"dtype\": \"F32\",", new byte[0])), "header is not valid JSON");
        contains(fails(file("hello world", new byte[0])), "header is not valid JSON");
        contains(fails(file("", new byte[0])), "header is empty");
    }

    @Test
    void headerNotAnObject() throws IOException {
        contains(fails(file("[1, 2, 3]", new byte[0])), "header is a JSON array, expected an object");
        contains(fails(file("\"x\"", new byte[0])), "header is a JSON string, expected an object");
    }

    @Test
    void trailingGarbageAfterTheHeader() throws IOException {
        contains(fails(file("{} {}", new byte[0])), "header is not valid JSON", "unexpected content after the JSON value");
    }

    @Test
    void invalidUtf8InHeader() throws IOException {
        byte[] h = "{\"a\u00ff\": {}}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        contains(fails(RawSafetensors.write(dir.resolve("u.safetensors"), h, new byte[0])), "header is not valid JSON",
                "UTF-8");
    }

    @Test
    void unknownDtype() throws IOException {
        FormatException e = fails(file("{\"w\": {\"dtype\": \"F128\", \"shape\": [1], \"data_offsets\": [0, 16]}}",
                new byte[16]));
        contains(e, "tensor 'w'", "unknown dtype 'F128'", "F32", "BF16");
        assertEquals("w", e.entry());
        contains(fails(file("{\"w\": {\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4])),
                "unknown dtype 'f32'");
        contains(fails(file("{\"w\": {\"dtype\": 7, \"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4])),
                "dtype is number, expected a string");
    }

    @Test
    void shapeAndOffsetsDisagree() throws IOException {
        FormatException e = fails(file("{\"lm_head.weight\": {\"dtype\": \"F32\", \"shape\": [4, 8], \"data_offsets\": [0, 64]}}",
                new byte[64]));
        contains(e, "tensor 'lm_head.weight'", "shape [4,8] of F32 needs 128 bytes but data_offsets [0,64] hold 64");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", new byte[16])),
                "tensor 'w'", "data_offsets [8,24] reach beyond the data buffer of 16 bytes");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [20, 20]}}", new byte[16])),
                "reach beyond the data buffer");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", new byte[16])),
                "end before they begin");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", new byte[16])),
                "must be two non-negative integers");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", new byte[4])),
                "expected [begin, end]");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[4])),
                "data_offsets is missing");
    }

    @Test
    void overlappingTensors() throws IOException {
        String h = "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}";
        contains(fails(file(h, new byte[24])), "tensor 'b'", "data_offsets [8, 24] overlap tensor 'a' at [0, 16]");
    }

    @Test
    void holesAreReportedAndCanBeAllowed() throws IOException {
        String h = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [16, 24]}}";
        Path f = file(h, new byte[24]);
        contains(fails(f), "bytes [8, 16) of the data buffer belong to no tensor", "fully indexed");
        try (SafetensorsFile sf = SafetensorsFile.open(f, true)) {
            assertEquals(2, sf.names().size());
        }
        Path trailing = RawSafetensors.write(dir.resolve("trail.safetensors"),
                "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", new byte[12]);
        contains(fails(trailing), "bytes [8, 12) of the data buffer belong to no tensor");
        Path leading = RawSafetensors.write(dir.resolve("lead.safetensors"),
                "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", new byte[12]);
        contains(fails(leading), "bytes [0, 4) of the data buffer belong to no tensor");
    }

    @Test
    void negativeAndNonIntegerDimensions() throws IOException {
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -3], \"data_offsets\": [0, 0]}}", new byte[0])),
                "tensor 'w'", "negative dimension -3 in shape [2,-3]");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 0]}}", new byte[0])),
                "dimension 0 of shape [2.5] is not an integer");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": \"2x2\", \"data_offsets\": [0, 0]}}", new byte[0])),
                "shape is string, expected an array");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [99999999999999999999], \"data_offsets\": [0, 0]}}",
                new byte[0])), "is not an integer");
    }

    @Test
    void shapeTooLargeToAddress() throws IOException {
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 0]}}",
                new byte[0])), "tensor 'w'", "too large to address");
    }

    @Test
    void duplicateNames() throws IOException {
        String h = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}";
        contains(fails(file(h, new byte[8])), "header is not valid JSON", "key 'a' appears twice");
    }

    @Test
    void deeplyNestedJson() throws IOException {
        int depth = 5000;
        String h = "{\"__metadata__\": {\"x\": " + "[".repeat(depth) + "]".repeat(depth) + "}}";
        contains(fails(file(h, new byte[0])), "header is not valid JSON", "nesting depth");
    }

    @Test
    void badMetadata() throws IOException {
        contains(fails(file("{\"__metadata__\": {\"format\": 1}}", new byte[0])),
                "__metadata__ value of 'format' is a JSON number, the format allows only strings");
        contains(fails(file("{\"__metadata__\": [\"pt\"]}", new byte[0])), "__metadata__ is a JSON array");
    }

    @Test
    void malformedEntries() throws IOException {
        contains(fails(file("{\"w\": [1, 2]}", new byte[0])), "tensor 'w'", "entry is a JSON array");
        contains(fails(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"extra\": 1}}",
                new byte[4])), "unexpected field 'extra'");
        contains(fails(file("{\"\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4])),
                "empty name");
    }

    @Test
    void wrongShapeOrTypeOnLoad() throws IOException {
        Path f = file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 16]},"
                + " \"ids\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [16, 32]},"
                + " \"d\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [32, 40]}}", new byte[40]);
        try (SafetensorsFile sf = SafetensorsFile.open(f); Scope s = Scope.open()) {
            Tensor wrong = Tensor.zeros(dev, DType.FP32, Shape.of(4, 1));
            FormatException e = assertThrows(FormatException.class, () -> sf.copyInto("w", wrong));
            contains(e, f.toString(), "tensor 'w'", "shape [2, 2] in the file does not match the expected [4, 1]");
            contains(assertThrows(FormatException.class, () -> sf.load("ids", dev, DType.FP32)),
                    "tensor 'ids'", "is stored as I64 and cannot be loaded as FP32");
            contains(assertThrows(FormatException.class, () -> sf.load("missing", dev)),
                    "tensor 'missing'", "no such tensor in this file (it has 3 tensors)");
            contains(assertThrows(FormatException.class, () -> sf.load("d", dev)),
                    "tensor 'd'", "F64, which has no AscendJ type");
        }
    }

    @Test
    void integerOutOfRangeOnNarrowing() throws IOException {
        byte[] data = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(7).putLong(1L << 40).array();
        Path f = file("{\"ids\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", data);
        try (SafetensorsFile sf = SafetensorsFile.open(f); Scope s = Scope.open()) {
            contains(assertThrows(FormatException.class, () -> sf.load("ids", dev, DType.INT32)),
                    "tensor 'ids'", "element 1 = 1099511627776 does not fit in I32");
        }
    }
}
