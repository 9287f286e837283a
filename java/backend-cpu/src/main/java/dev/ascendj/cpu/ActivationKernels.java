package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.FastExp;
import dev.ascendj.core.Tensor;

/**
 * The SiLU-gated activation of LLaMA's MLP, {@code out = silu(g) * u} with
 * {@code silu(g) = g * sigmoid(g)}, and its backward:
 * <pre>
 * dGate = dOut * u * sigmoid(g) * (1 + g * (1 - sigmoid(g)))
 * dUp   = dOut * silu(g)
 * </pre>
 * Work is split into chunks of at most {@link #CHUNK} elements of one row, so that both many
 * short rows and one long row run in parallel.
 */
final class ActivationKernels {
    private static final int CHUNK = 4096;

    private ActivationKernels() {
    }

    static void swiGlu(KernelArgs c, DType compute, Tensor gate, Tensor up, Tensor out) {
        c.floating("gate", gate);
        c.floating("up", up);
        c.floating("out", out);
        c.sameShape("up", up, "gate", gate);
        c.sameShape("out", out, "gate", gate);
        c.noOverlap("out", out, "gate", gate);
        c.noOverlap("out", out, "up", up);
        TensorRows gs = TensorRows.of(gate);
        TensorRows us = TensorRows.of(up);
        TensorRows os = TensorRows.of(out, compute);
        forChunks(gs, (r, col, len) -> {
            float[] g = HeapScratch.floats(0, len);
            float[] u = HeapScratch.floats(1, len);
            float[] e = HeapScratch.floats(2, len);
            gs.read(r, col, len, g, 0);
            us.read(r, col, len, u, 0);
            expOfMinus(g, e, len, HeapScratch.floats(3, len));
            for (int i = 0; i < len; i++) {
                g[i] = g[i] / (1f + e[i]) * u[i];
            }
            os.write(r, col, len, g, 0);
        });
    }

    static void swiGluGrad(KernelArgs c, DType compute, Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        c.floating("dOut", dOut);
        c.floating("gate", gate);
        c.floating("up", up);
        c.floating("dGate", dGate);
        c.floating("dUp", dUp);
        c.sameShape("up", up, "gate", gate);
        c.sameShape("dOut", dOut, "gate", gate);
        c.sameShape("dGate", dGate, "gate", gate);
        c.sameShape("dUp", dUp, "gate", gate);
        Tensor[] inputs = {dOut, gate, up};
        String[] names = {"dOut", "gate", "up"};
        for (int i = 0; i < inputs.length; i++) {
            c.noOverlap("dGate", dGate, names[i], inputs[i]);
            c.noOverlap("dUp", dUp, names[i], inputs[i]);
        }
        c.noOverlap("dGate", dGate, "dUp", dUp);
        TensorRows ds = TensorRows.of(dOut);
        TensorRows gs = TensorRows.of(gate);
        TensorRows us = TensorRows.of(up);
        TensorRows dgs = TensorRows.of(dGate, compute);
        TensorRows dus = TensorRows.of(dUp, compute);
        forChunks(gs, (r, col, len) -> {
            float[] d = HeapScratch.floats(0, len);
            float[] g = HeapScratch.floats(1, len);
            float[] u = HeapScratch.floats(2, len);
            ds.read(r, col, len, d, 0);
            gs.read(r, col, len, g, 0);
            us.read(r, col, len, u, 0);
            float[] e = HeapScratch.floats(3, len);
            expOfMinus(g, e, len, HeapScratch.floats(4, len));
            for (int i = 0; i < len; i++) {
                float x = g[i];
                float s = 1f / (1f + e[i]);
                float dy = d[i];
                g[i] = dy * u[i] * s * (1f + x * (1f - s));
                u[i] = dy * x * s;
            }
            dgs.write(r, col, len, g, 0);
            dus.write(r, col, len, u, 0);
        });
    }

    /**
     * {@code e = exp(-g)}, from which {@code sigmoid(g) = 1 / (1 + e)}: for very negative
     * {@code g}, {@code e} saturates at {@code exp(88)} and the sigmoid at about 1e-38 rather than
     * overflowing; for very positive {@code g} it is 1. {@code tmp} is scratch of length {@code len}.
     */
    private static void expOfMinus(float[] g, float[] e, int len, float[] tmp) {
        for (int i = 0; i < len; i++) {
            e[i] = -g[i];
        }
        FastExp.expShifted(e, 0, len, 0f, tmp);
    }

    @FunctionalInterface
    private interface ChunkBody {
        void run(long row, int col, int len);
    }

    private static void forChunks(TensorRows shape, ChunkBody body) {
        int cols = shape.cols();
        long rows = shape.rows();
        if (cols == 0 || rows == 0) {
            return;
        }
        int perRow = (cols + CHUNK - 1) / CHUNK;
        int n = Math.toIntExact(rows * perRow);
        CpuThreads.parallelFor(n, 20L * Math.min(cols, CHUNK), i -> {
            long r = i / perRow;
            int col = (i % perRow) * CHUNK;
            body.run(r, col, Math.min(CHUNK, cols - col));
        });
    }
}
