package dev.ascendj.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Half;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsRoundTripTest {
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

    /** Random bytes plus the special values of the type (NaN payloads, -0, infinities, subnormals). */
    static ByteBuffer randomBytes(DType dtype, int numel, long seed) {
        Random r = new Random(seed);
        byte[] b = new byte[numel * dtype.elementSize()];
        r.nextBytes(b);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (numel < 4) {
            return buf;
        }
        switch (dtype) {
            case FP32 -> {
                buf.putInt(0, 0x7fc00001); // NaN with a payload
                buf.putInt(4, 0x80000000); // -0
                buf.putInt(8, 0xff800000); // -inf
                buf.putInt(12, 0x00000001); // smallest subnormal
            }
            case FP16, BF16 -> {
                buf.putShort(0, (short) 0x7e01);
                buf.putShort(2, (short) 0x8000);
                buf.putShort(4, (short) 0xfc00);
                buf.putShort(6, (short) 0x0001);
            }
            case INT64 -> {
                buf.putLong(0, Long.MIN_VALUE);
                buf.putLong(8, -1);
            }
            default -> {
            }
        }
        return buf;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16", "INT64", "INT32", "INT8", "UINT8"})
    void roundTripIsBitIdentical(DType dtype) throws IOException {
        Path file = dir.resolve("rt.safetensors");
        ByteBuffer a = randomBytes(dtype, 3 * 5, 1);
        ByteBuffer b = randomBytes(dtype, 7, 2);
        try (Scope s = Scope.open()) {
            Tensor ta = Tensor.empty(dev, dtype, Shape.of(3, 5));
            ta.copyFromBytes(a);
            Tensor tb = Tensor.empty(dev, dtype, Shape.of(7));
            tb.copyFromBytes(b);
            Tensor scalar = Tensor.empty(dev, dtype, Shape.of());
            scalar.copyFromBytes(randomBytes(dtype, 1, 3));
            Tensor empty = Tensor.empty(dev, dtype, Shape.of(0, 4));
            new SafetensorsWriter().metadata("format", "pt").add("layer.a", ta).add("layer.b", tb)
                    .add("scalar", scalar).add("empty", empty).write(file);

            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals(Map.of("format", "pt"), f.metadata());
                assertEquals(SafetensorsDtype.of(dtype), f.info("layer.a").dtype());
                assertArrayEquals(new long[] {3, 5}, f.info("layer.a").dims());
                assertEquals(Shape.of(), f.info("scalar").shape());
                assertEquals(Shape.of(0, 4), f.info("empty").shape());
                assertEquals(a.rewind(), f.load("layer.a", dev).toBytes());
                assertEquals(b.rewind(), f.load("layer.b", dev).toBytes());
                assertEquals(scalar.toBytes(), f.load("scalar", dev).toBytes());
                assertEquals(0, f.load("empty", dev).numel());
                assertEquals(a.rewind(), f.bytes("layer.a"));
                assertTrue(f.bytes("layer.a").isReadOnly());
            }
        }
    }

    @Test
    void layoutIsAlignedPaddedAndDeterministic() throws IOException {
        Path one = dir.resolve("one.safetensors");
        Path two = dir.resolve("two.safetensors");
        try (Scope s = Scope.open()) {
            Tensor i8 = Tensor.empty(dev, DType.INT8, Shape.of(3));
            i8.copyFromBytes(randomBytes(DType.INT8, 3, 4));
            Tensor f16 = Tensor.fromFloats(dev, DType.FP16, Shape.of(3), 1, 2, 3);
            Tensor f32 = Tensor.fromFloats(dev, Shape.of(2), 4, 5);
            Tensor i64 = Tensor.fromLongs(dev, Shape.of(1), 6);
            new SafetensorsWriter().add("z", i8).add("y", f16).add("b", f32).add("a", f32).add("q", i64).write(one);
            new SafetensorsWriter().add("q", i64).add("a", f32).add("b", f32).add("y", f16).add("z", i8).write(two);
        }
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(two), "insertion order must not matter");
        long n = RawSafetensors.headerLength(one);
        assertEquals(0, (8 + n) % 8, "header padded to 8 bytes");
        String header = RawSafetensors.headerText(one);
        String json = header.stripTrailing();
        assertTrue(json.startsWith("{") && json.endsWith("}"), header);
        String padding = header.substring(json.length());
        assertTrue(padding.length() < 8 && padding.chars().allMatch(c -> c == ' '), "padding '" + padding + "'");
        try (SafetensorsFile f = SafetensorsFile.open(one)) {
            assertEquals(List.of("q", "a", "b", "y", "z"), f.names(), "largest elements first, then by name");
            for (TensorInfo t : f.tensors()) {
                assertEquals(0, (f.dataStart() + t.begin()) % t.dtype().size(), t.name() + " aligned");
            }
        }
    }

    @Test
    void convertsBetweenFloatTypesOnLoadAndOnWrite() {
        Path file = dir.resolve("conv.safetensors");
        float[] v = {1f, -2.5f, 3.14159265f, 65504f, 70000f, 1e-8f, -0f, Float.NaN, 1.00390625f};
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.fromFloats(dev, Shape.of(v.length), v);
            new SafetensorsWriter().add("f32", t).add("as_f16", t, DType.FP16).add("as_bf16", t, DType.BF16).write(file);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals(SafetensorsDtype.F16, f.info("as_f16").dtype());
                assertEquals(SafetensorsDtype.BF16, f.info("as_bf16").dtype());
                float[] h = f.load("f32", dev, DType.FP16).toFloatArray();
                float[] b = f.load("f32", dev, DType.BF16).toFloatArray();
                float[] hw = f.load("as_f16", dev).toFloatArray();
                float[] bw = f.load("as_bf16", dev).toFloatArray();
                float[] back = f.load("as_f16", dev, DType.FP32).toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    assertEquals(Half.roundToHalf(v[i]), h[i], "fp16 " + v[i]);
                    assertEquals(Half.roundToBFloat16(v[i]), b[i], "bf16 " + v[i]);
                    assertEquals(Half.roundToHalf(v[i]), hw[i]);
                    assertEquals(Half.roundToBFloat16(v[i]), bw[i]);
                    assertEquals(Half.roundToHalf(v[i]), back[i], "F16 on disk widened exactly");
                }
                assertEquals(Float.POSITIVE_INFINITY, h[4], "70000 overflows FP16");
            }
        }
    }

    @Test
    void chunkedCopiesMatchWholeCopies() {
        Path file = dir.resolve("chunks.safetensors");
        int n = 1000; // not a multiple of the chunk
        float[] v = new float[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.fromFloats(dev, DType.BF16, Shape.of(10, 100), v);
            new SafetensorsWriter().add("w", t).write(file);
            try (SafetensorsFile whole = SafetensorsFile.open(file);
                 SafetensorsFile chunked = SafetensorsFile.open(file, false, 24)) {
                assertEquals(whole.load("w", dev).toBytes(), chunked.load("w", dev).toBytes());
                assertArrayEquals(whole.load("w", dev, DType.FP32).toFloatArray(),
                        chunked.load("w", dev, DType.FP32).toFloatArray());
                assertArrayEquals(t.toFloatArray(), chunked.load("w", dev, DType.FP32).toFloatArray());
            }
        }
    }

    @Test
    void copyIntoAViewOfALargerBuffer() {
        Path file = dir.resolve("view.safetensors");
        try (Scope s = Scope.open()) {
            new SafetensorsWriter().add("w", Tensor.fromFloats(dev, Shape.of(2, 3), 1, 2, 3, 4, 5, 6)).write(file);
            Tensor big = Tensor.zeros(dev, DType.FP32, Shape.of(4, 3));
            Tensor rows = big.slice(0, 1, 3); // contiguous view starting at element 3
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                f.copyInto("w", rows);
            }
            assertArrayEquals(new float[] {0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0}, big.toFloatArray());
        }
    }

    /** A sparse file: the data of "w" starts past 2 GiB, beyond what one mapping can address. */
    @Test
    void tensorsBeyondTwoGigabytes() throws IOException {
        long pad = (1L << 31) + 8;
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + pad + "],\"data_offsets\":[0," + pad + "]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + pad + "," + (pad + 16) + "]}}";
        byte[] h = (header + " ".repeat((8 - header.length() % 8) % 8)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.SPARSE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(h.length).put(h).flip();
            ch.write(head, 0);
            ch.write(ByteBuffer.wrap(RawSafetensors.f32(1.5f, -2f, 3.25f, 4f)), 8 + h.length + pad);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file); Scope s = Scope.open()) {
            assertTrue(f.dataStart() + f.info("w").begin() > Integer.MAX_VALUE);
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 4f}, f.load("w", dev).toFloatArray());
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 4f}, f.load("w", dev, DType.BF16).toFloatArray());
            assertEquals(1.5f, f.bytes("w").getFloat(0));
            FormatException e = assertThrows(FormatException.class, () -> f.bytes("pad"));
            assertTrue(e.getMessage().contains("more than one ByteBuffer can view"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void rawBytesAndUnmappedTypes() {
        Path file = dir.resolve("raw.safetensors");
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).putDouble(-2.25).flip();
        ByteBuffer flags = ByteBuffer.wrap(new byte[] {1, 0, 1});
        new SafetensorsWriter().addBytes("d", SafetensorsDtype.F64, new long[] {2}, f64)
                .addBytes("flags", SafetensorsDtype.BOOL, new long[] {3}, flags).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file); Scope s = Scope.open()) {
            assertArrayEquals(new float[] {1.5f, -2.25f}, f.load("d", dev, DType.FP32).toFloatArray());
            assertArrayEquals(new int[] {1, 0, 1}, f.load("flags", dev, DType.UINT8).toIntArray());
            assertEquals(ByteBuffer.wrap(new byte[] {1, 0, 1}), f.bytes("flags"));
        }
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter()
                .addBytes("x", SafetensorsDtype.F32, new long[] {3}, ByteBuffer.allocate(8)));
    }

    @Test
    void writerRejectsBadInput() {
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.fromFloats(dev, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            SafetensorsWriter w = new SafetensorsWriter().add("a", t);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("a", t)).getMessage()
                    .contains("already added"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", t)).getMessage()
                    .contains("reserved"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("t", t.transpose(0, 1))).getMessage()
                    .contains("strided"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> w.add("i", t, DType.INT32)).getMessage()
                    .contains("cannot be stored as INT32"));
        }
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporaries() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Scope s = Scope.open()) {
            new SafetensorsWriter().add("w", Tensor.fromFloats(dev, Shape.of(1), 42)).write(file);
        }
        byte[] before = Files.readAllBytes(file);
        Tensor closed;
        SafetensorsWriter w = new SafetensorsWriter();
        try (Scope s = Scope.open()) {
            w.add("a", Tensor.fromFloats(dev, Shape.of(1000), new float[1000]));
            closed = Tensor.fromFloats(dev, Shape.of(1), 1);
            w.add("b", closed);
        }
        // the scope closed both tensors: the writer fails part-way through the data
        assertThrows(IllegalStateException.class, () -> w.write(file));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
        Path readOnlyDir = dir.resolve("sub");
        Files.createDirectories(readOnlyDir);
        Files.writeString(readOnlyDir.resolve("blocker"), "x");
        // a directory in the way: the parent "directory" is a file, so nothing can be created
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> new SafetensorsWriter().write(readOnlyDir.resolve("blocker").resolve("x.safetensors")));
        assertTrue(e.getMessage().contains("cannot write " + readOnlyDir.resolve("blocker").resolve("x.safetensors")),
                e.getMessage());
        assertFalse(Files.exists(readOnlyDir.resolve("blocker").resolve("x.safetensors")));
    }
}
