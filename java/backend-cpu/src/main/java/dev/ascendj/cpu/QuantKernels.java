package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * NF4 block quantization (QLoRA): per block of {@link Nf4#BLOCK_SIZE} consecutive elements, the
 * absolute maximum is kept in FP32 and each element becomes the index of the code nearest to
 * {@code x / absmax}; two codes per byte, the earlier element in the low nibble. Blocks are 64
 * elements, an even number, so every block starts on a byte boundary and blocks can be encoded in
 * parallel without sharing a byte.
 */
final class QuantKernels {
    private static final int BYTES_PER_BLOCK = Nf4.BLOCK_SIZE / 2;
    /** Blocks per parallel task: 64 blocks are 4096 elements. */
    private static final int BLOCKS_PER_TASK = 64;

    private QuantKernels() {
    }

    static void nf4Quantize(KernelArgs c, Tensor src, Tensor packed, Tensor absmax) {
        c.floating("src", src);
        nf4("packed", c, packed);
        c.fp32("absmax", absmax);
        long n = src.numel();
        checkCounts(c, n, packed, absmax, "src", src);
        contiguous(c, "src", src);
        contiguous(c, "absmax", absmax);
        c.noOverlap("absmax", absmax, "src", src);
        if (n == 0) {
            return;
        }
        if (!ElementwiseKernels.allFinite(c, src)) {
            throw c.fail("src " + src.describe() + " holds " + firstNonFinite(src)
                    + "; only finite values can be quantized");
        }
        ByteBuffer codes = ((CpuBuffer) packed.buffer()).bytes();
        FloatBuffer scales = ((CpuBuffer) absmax.buffer()).bytes().asFloatBuffer();
        long codeBase = packed.byteOffset();
        long scaleBase = absmax.offset();
        long blocks = Nf4.blocks(n);
        try (Scope views = Scope.open()) {
            TensorRows flat = TensorRows.of(src.reshape(Math.toIntExact(n)));
            int tasks = Math.toIntExact((blocks + BLOCKS_PER_TASK - 1) / BLOCKS_PER_TASK);
            CpuThreads.parallelFor(tasks, (long) BLOCKS_PER_TASK * Nf4.BLOCK_SIZE * 4, task -> {
                float[] x = new float[Nf4.BLOCK_SIZE];
                long end = Math.min(blocks, (long) (task + 1) * BLOCKS_PER_TASK);
                for (long blk = (long) task * BLOCKS_PER_TASK; blk < end; blk++) {
                    int first = Math.toIntExact(blk * Nf4.BLOCK_SIZE);
                    int len = (int) Math.min(Nf4.BLOCK_SIZE, n - first);
                    flat.read(0, first, len, x, 0);
                    float max = 0f;
                    for (int i = 0; i < len; i++) {
                        max = Math.max(max, Math.abs(x[i]));
                    }
                    scales.put((int) (scaleBase + blk), max);
                    int at = (int) (codeBase + blk * BYTES_PER_BLOCK);
                    for (int i = 0; i < len; i += 2) {
                        int lo = code(x[i], max);
                        // A partial last block with an odd length leaves the last high nibble zero.
                        int hi = i + 1 < len ? code(x[i + 1], max) : 0;
                        codes.put(at + i / 2, (byte) (lo | hi << 4));
                    }
                }
            });
        }
    }

    private static int code(float x, float absmax) {
        // An all-zero block has absmax 0; its elements are exactly the zero code.
        return absmax == 0f ? Nf4.nearest(0f) : Nf4.nearest(x / absmax);
    }

    static void nf4Dequantize(KernelArgs c, DType compute, Tensor packed, Tensor absmax, Tensor out) {
        nf4("packed", c, packed);
        c.fp32("absmax", absmax);
        c.floating("out", out);
        long n = out.numel();
        checkCounts(c, n, packed, absmax, "out", out);
        contiguous(c, "absmax", absmax);
        c.noOverlap("out", out, "absmax", absmax);
        ByteBuffer codes = ((CpuBuffer) packed.buffer()).bytes();
        FloatBuffer scales = ((CpuBuffer) absmax.buffer()).bytes().asFloatBuffer();
        long codeBase = packed.byteOffset();
        long scaleBase = absmax.offset();
        float[] book = Nf4.codebook();
        TensorRows ro = TensorRows.of(out, compute);
        int cols = ro.cols();
        // TensorRows of out are consecutive runs of the flat element index, whatever out's strides.
        Tiles.of(ro).forEach(2, (t, r0, r1, c0, c1) -> {
            float[] row = new float[c1 - c0];
            for (long r = r0; r < r1; r++) {
                long first = r * cols + c0;
                for (int i = 0; i < row.length; i++) {
                    long e = first + i;
                    int b = codes.get((int) (codeBase + (e >> 1)));
                    int code = (e & 1) == 0 ? b & 0x0f : (b >> 4) & 0x0f;
                    row[i] = book[code] * scales.get((int) (scaleBase + e / Nf4.BLOCK_SIZE));
                }
                ro.write(r, c0, row.length, row, 0);
            }
        });
    }

    /** Describes the first NaN or infinity of {@code t}, for the error message (slow path only). */
    private static String firstNonFinite(Tensor t) {
        float[] x = t.toFloatArray();
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                return x[i] + " at element " + i;
            }
        }
        return "a non-finite value";
    }

    private static void contiguous(KernelArgs c, String name, Tensor t) {
        if (!t.isContiguous()) {
            throw c.fail(name + " " + t.describe() + " must be contiguous");
        }
    }

    private static void nf4(String name, KernelArgs c, Tensor t) {
        c.tensor(name, t);
        if (t.dtype() != DType.NF4) {
            throw c.fail(name + " " + t.describe() + " must be NF4");
        }
    }

    private static void checkCounts(KernelArgs c, long n, Tensor packed, Tensor absmax, String name, Tensor t) {
        if (packed.numel() != n) {
            throw c.fail("packed " + packed.describe() + " holds " + packed.numel() + " codes but " + name + " "
                    + t.describe() + " has " + n + " elements");
        }
        long blocks = Nf4.blocks(n);
        if (absmax.numel() != blocks) {
            throw c.fail("absmax " + absmax.describe() + " holds " + absmax.numel() + " scales but " + name + " "
                    + t.describe() + " has " + n + " elements, which need " + blocks + " blocks of "
                    + Nf4.BLOCK_SIZE);
        }
    }
}
