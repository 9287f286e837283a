package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rotary position embedding in Hugging Face's rotate-half form, forward and backward. For a
 * head vector split into halves {@code [x1, x2]} and angles {@code a_i = (p / scale) * theta^(-2i/D)}:
 * <pre>
 * forward:  y1 = x1 cos a - x2 sin a,   y2 = x2 cos a + x1 sin a
 * backward: dx1 = dy1 cos a + dy2 sin a, dx2 = dy2 cos a - dy1 sin a   (the transpose, i.e. rotation by -a)
 * </pre>
 * Angles are computed in double precision and cached as FP32 cos/sin tables per
 * (theta, scale, D), grown to the largest position seen. The output may be the input itself
 * (same elements, computed in place); any other overlap is rejected.
 */
final class RopeKernels {
    /** Tables kept; more distinct configurations than this in one process would be unusual. */
    private static final int MAX_CACHED = 16;
    /**
     * Positions from this on get their angles computed per call instead of from a cached table
     * (which holds {@code 8 * D/2} bytes per position: 16 MB at this limit and D = 128).
     */
    private static final int MAX_TABLE_POSITIONS = 1 << 15;
    private static final Map<TableKey, Table> CACHE = new ConcurrentHashMap<>();

    private RopeKernels() {
    }

    static void forward(KernelArgs c, DType compute, Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        apply(c, compute, "x", x, positions, theta, scale, "out", out, false);
    }

    static void backward(KernelArgs c, DType compute, Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        apply(c, compute, "dy", dy, positions, theta, scale, "dx", dx, true);
    }

    private static void apply(KernelArgs c, DType compute, String inName, Tensor in, Tensor positions, float theta,
                              float scale, String outName, Tensor out, boolean transpose) {
        c.floating(inName, in);
        c.floating(outName, out);
        c.index("positions", positions);
        c.rank(inName, in, 4);
        c.sameShape(outName, out, inName, in);
        int b = in.dim(0);
        int s = in.dim(1);
        int h = in.dim(2);
        int d = in.dim(3);
        if (d % 2 != 0) {
            throw c.fail(inName + " " + in.describe() + " must have an even head dimension D, got " + d);
        }
        boolean perBatch;
        if (positions.rank() == 1 && positions.dim(0) == s) {
            perBatch = false;
        } else if (positions.rank() == 2 && positions.dim(0) == b && positions.dim(1) == s) {
            perBatch = true;
        } else {
            throw c.fail("positions " + positions.describe() + " must be [S] or [B, S] = [" + s + "] or [" + b
                    + ", " + s + "] for " + inName + " " + in.describe());
        }
        if (!(theta > 0) || Float.isInfinite(theta)) {
            throw c.fail("theta must be positive and finite, got " + theta);
        }
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw c.fail("scale must be positive and finite, got " + scale);
        }
        if (!sameLayout(in, out)) {
            c.noOverlap(outName, out, inName, in);
        }
        c.noOverlap(outName, out, "positions", positions);
        if (in.numel() == 0) {
            return;
        }
        int[] pos;
        try {
            pos = Indices.read(positions);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw c.fail("positions " + positions.describe() + " holds a position that does not fit in 32 bits: "
                    + e.getMessage());
        }
        int maxPos = 0;
        for (int i = 0; i < pos.length; i++) {
            if (pos[i] < 0) {
                throw c.fail("positions " + positions.describe() + " has negative position " + pos[i]
                        + " at element " + i);
            }
            maxPos = Math.max(maxPos, pos[i]);
        }
        int half = d / 2;
        Table table = maxPos < MAX_TABLE_POSITIONS ? table(theta, scale, d, maxPos) : null;
        float sign = transpose ? -1f : 1f;
        TensorRows src = TensorRows.of(in);
        TensorRows dst = TensorRows.of(out, compute);
        CpuThreads.parallelFor(b * s, 6L * h * d, bs -> {
            int p = pos[perBatch ? bs : bs % s];
            float[] cos;
            float[] sin;
            int tOff;
            if (table != null) {
                cos = table.cos;
                sin = table.sin;
                tOff = p * half;
            } else {
                cos = HeapScratch.floats(2, half);
                sin = HeapScratch.floats(3, half);
                Table.angles(theta, scale, d, p, cos, sin, 0);
                tOff = 0;
            }
            float[] row = HeapScratch.floats(0, d);
            float[] res = HeapScratch.floats(1, d);
            for (int hh = 0; hh < h; hh++) {
                long r = (long) bs * h + hh;
                src.read(r, row, 0);
                for (int i = 0; i < half; i++) {
                    float co = cos[tOff + i];
                    float si = sign * sin[tOff + i];
                    float x1 = row[i];
                    float x2 = row[i + half];
                    res[i] = x1 * co - x2 * si;
                    res[i + half] = x2 * co + x1 * si;
                }
                dst.write(r, res, 0);
            }
        });
    }

    /** True when {@code a} and {@code b} are the same elements of the same buffer (in-place use). */
    private static boolean sameLayout(Tensor a, Tensor b) {
        return a.buffer() == b.buffer() && a.dtype() == b.dtype() && a.offset() == b.offset()
                && Arrays.equals(a.strides(), b.strides());
    }

    /** The cached table for (theta, scale, d) covering positions up to {@code maxPos}. */
    static Table table(float theta, float scale, int d, int maxPos) {
        TableKey key = new TableKey(theta, scale, d);
        Table t = CACHE.get(key);
        if (t != null && t.positions > maxPos) {
            return t;
        }
        // Grow geometrically so a sequence of growing positions builds few tables.
        int want = Math.min(MAX_TABLE_POSITIONS, Math.max(maxPos + 1, t == null ? 0 : t.positions * 2));
        Table built = new Table(theta, scale, d, want);
        if (CACHE.size() >= MAX_CACHED && !CACHE.containsKey(key)) {
            CACHE.clear();
        }
        // Concurrent builders may race; any table covering the positions is correct.
        CACHE.merge(key, built, (old, nw) -> old.positions >= nw.positions ? old : nw);
        return built;
    }

    private record TableKey(float theta, float scale, int d) {
    }

    /** cos and sin of every (position, frequency) pair, position-major. Immutable once built. */
    static final class Table {
        final int positions;
        final float[] cos;
        final float[] sin;

        Table(float theta, float scale, int d, int positions) {
            int half = d / 2;
            this.positions = positions;
            this.cos = new float[Math.multiplyExact(positions, half)];
            this.sin = new float[cos.length];
            for (int p = 0; p < positions; p++) {
                angles(theta, scale, d, p, cos, sin, p * half);
            }
        }

        /** Writes cos and sin of the D/2 angles of position {@code p} at {@code off}. */
        static void angles(float theta, float scale, int d, int p, float[] cos, float[] sin, int off) {
            double t = p / (double) scale;
            for (int i = 0; i < d / 2; i++) {
                double a = t * Math.pow(theta, -2.0 * i / d);
                cos[off + i] = (float) Math.cos(a);
                sin[off + i] = (float) Math.sin(a);
            }
        }
    }
}
