package dev.ascendj.model.decode;

import dev.ascendj.core.Log;
import org.apache.logging.log4j.Logger;

/**
 * The arithmetic of the decoder that is worth vectorising: products with packed weights, and the
 * two halves of attention over a KV cache. Two implementations compute exactly the same numbers:
 * {@link ScalarKernels} (plain Java) and {@code VectorKernels} (the JDK's Vector API, used when the
 * {@code jdk.incubator.vector} module is present). Every output element is one chain of fused
 * multiply-adds in a fixed order, never a horizontal sum, so an element does not depend on how
 * many rows are computed together, on the panel width or on the thread that computes it.
 *
 * <p>All arrays are on the heap; offsets and strides are in elements.
 */
public abstract class DecodeKernels {
    private static final Logger LOG = Log.get(DecodeKernels.class);
    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static volatile DecodeKernels preferred;

    /** Input indices dequantized at once for a group of panels of 16-bit or NF4 weights. */
    static final int UNPACK_CHUNK = 128;

    /** Input rows computed together against one tile of weights. */
    static final int ROW_BLOCK = 4;

    /**
     * Panels computed together when there are several input rows: a block of rows reads a
     * group's weights from memory once and from cache for the other blocks.
     */
    static final int GROUP = 4;

    /**
     * Panels computed together when there is a single input row (one sequence decoding), whose
     * product only streams the weights: eight panels of two vectors keep sixteen independent
     * multiply-add chains and eight weight streams in flight, which reads memory measurably faster
     * than four panels (llama2-15m, one thread: 15-20% more tokens/s) or two. (Kernels without the
     * registers for sixteen chains run a group as two halves.)
     */
    static final int STREAM_GROUP = 8;

    /** Rows of W per panel that weights are packed in for these kernels. */
    public abstract int panelWidth();

    /** A short description for logs and benchmarks ("vector (16 float lanes)", "scalar"). */
    public abstract String describe();

    /**
     * The fastest kernels this JVM can run: the Vector API ones when {@code jdk.incubator.vector} is
     * in the boot layer (start Java with {@code --add-modules jdk.incubator.vector}; the
     * {@code ascendj} launcher does) and {@code -Dascendj.vector=false} is not set, else the
     * scalar ones. Both give the same results.
     */
    public static DecodeKernels preferred() {
        DecodeKernels k = preferred;
        if (k == null) {
            synchronized (DecodeKernels.class) {
                if (preferred == null) {
                    preferred = choose();
                }
                k = preferred;
            }
        }
        return k;
    }

    /** Whether the Vector API kernels can run in this JVM. */
    public static boolean vectorAvailable() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /** The Vector API kernels, or null with a logged reason when they cannot run here. */
    public static DecodeKernels vector() {
        if (!vectorAvailable()) {
            return null;
        }
        try {
            // By name, so this class loads in a JVM without the incubator module.
            DecodeKernels k = (DecodeKernels) Class.forName("dev.ascendj.model.decode.VectorKernels")
                    .getDeclaredConstructor().newInstance();
            return k.panelWidth() > 0 ? k : null;
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.warn("Vector API kernels unavailable ({}); decoding with scalar kernels", e.toString());
            return null;
        }
    }

    private static DecodeKernels choose() {
        if (!Boolean.parseBoolean(System.getProperty("ascendj.vector", "true"))) {
            LOG.info("decode kernels: scalar (-Dascendj.vector=false)");
            return new ScalarKernels();
        }
        DecodeKernels v = vector();
        if (v != null) {
            LOG.debug("decode kernels: {}", v.describe());
            return v;
        }
        LOG.info("decode kernels: scalar (the {} module is not loaded; start Java with --add-modules {} for the"
                + " Vector API kernels)", VECTOR_MODULE, VECTOR_MODULE);
        return new ScalarKernels();
    }

    /**
     * {@code y[m, c] = sum_k x[m, k] * W[c, k]} for the rows m in {@code [0, rows)} and the
     * columns c of panels {@code [p0, p1)} below {@code colEnd} (padding columns are never written;
     * pass {@code w.rows()} for all).
     *
     * @param scratch at least {@link #scratchFloats()} floats, owned by the calling thread
     */
    public final void matmul(PackedMatrix w, float[] x, int xOff, int xStride, int rows, float[] y, int yOff,
                             int yStride, int p0, int p1, int colEnd, float[] scratch) {
        if (w.width() != panelWidth()) {
            throw new IllegalArgumentException("weights packed in panels of " + w.width() + ", kernels use "
                    + panelWidth());
        }
        int width = w.width();
        int k = w.cols();
        int last = Math.min(colEnd, w.rows());
        int group = rows == 1 ? STREAM_GROUP : GROUP;
        for (int p = p0; p < p1; p += group) {
            int cols = Math.min(Math.min(group, p1 - p) * width, last - p * width);
            if (cols <= 0) {
                return;
            }
            int np = (cols + width - 1) / width;
            if (w instanceof PackedMatrix.F32Panels f) {
                rowBlocks(f.data, (int) f.index(p, 0, 0), k * width, np, k, x, xOff, xStride, rows, y,
                        yOff + p * width, yStride, false, cols);
                continue;
            }
            if (w instanceof PackedMatrix.HalfPanels h && halfRows(h, p, np, x, xOff, xStride, rows,
                    y, yOff + p * width, yStride, cols)) {
                continue;
            }
            for (int k0 = 0; k0 < k; k0 += UNPACK_CHUNK) {
                int kc = Math.min(UNPACK_CHUNK, k - k0);
                for (int i = 0; i < np; i++) {
                    unpack(w, p + i, k0, kc, scratch, i * kc * width);
                }
                rowBlocks(scratch, 0, kc * width, np, kc, x, xOff + k0, xStride, rows, y, yOff + p * width, yStride,
                        k0 > 0, cols);
            }
        }
    }

    /** Scratch floats {@link #matmul} needs per thread. */
    public final int scratchFloats() {
        return STREAM_GROUP * UNPACK_CHUNK * panelWidth();
    }

    private void rowBlocks(float[] w, int off, int panelStride, int np, int kc, float[] x, int xOff, int xStride,
                           int rows, float[] y, int yOff, int yStride, boolean accumulate, int cols) {
        for (int m = 0; m < rows; m += ROW_BLOCK) {
            int mr = Math.min(ROW_BLOCK, rows - m);
            tile(w, off, panelStride, np, kc, x, xOff + m * xStride, xStride, mr, y, yOff + m * yStride, yStride,
                    accumulate, cols);
        }
    }

    /**
     * One tile: {@code mr} (1..4) input rows against {@code np} (1..4) panels of FP32 weights, panel
     * i starting at {@code off + i * panelStride}, each stored k-major with row stride
     * {@link #panelWidth()}, over {@code kc} inputs. Writes the first {@code cols} outputs of each
     * row; with {@code accumulate} continues the multiply-add chains from the values in y.
     */
    abstract void tile(float[] w, int off, int panelStride, int np, int kc, float[] x, int xOff, int xStride, int mr,
                       float[] y, int yOff, int yStride, boolean accumulate, int cols);

    /**
     * The product with {@code np} panels of 16-bit weights from panel {@code p} on, widening each
     * weight in registers as it is used (once per block of rows) instead of through the scratch
     * buffer: the same values and the same chains, with less memory traffic. Returns false when
     * these kernels have no such path (the caller then unpacks).
     */
    boolean halfRows(PackedMatrix.HalfPanels w, int p, int np, float[] x, int xOff, int xStride, int rows, float[] y,
                     int yOff, int yStride, int cols) {
        return false;
    }

    /**
     * Dequantizes inputs {@code [k0, k0 + kc)} of panel {@code p} of a 16-bit or NF4 weight into
     * {@code dst} at {@code dstOff}, k-major with row stride {@link #panelWidth()}.
     */
    abstract void unpack(PackedMatrix w, int p, int k0, int kc, float[] dst, int dstOff);

    /**
     * Attention scores of one query head against {@code n} cached keys:
     * {@code out[t] = scale * sum_i q[qOff + i] * K[i, t]} for t in [0, n), summed over i in
     * order. The keys are stored transposed in tiles of {@code kStride} positions: tile
     * {@code t / kStride} holds {@code kStride * headDim} floats, dimension-major, so
     * {@code K[i, t] = keys[kOff + (t / kStride) * kStride * headDim + i * kStride + t % kStride]}.
     * With {@code n <= kStride} that is one dimension-major block, {@code keys[kOff + i * kStride + t]};
     * with short tiles a head's keys lie in one contiguous run however many positions the cache
     * holds, which memory streams much faster than one run per dimension. The last tile's slots
     * past n must exist (they may be read, never used). Elements of {@code out} from n up to one
     * vector past it may be overwritten when out is that long.
     */
    public abstract void scores(float[] q, int qOff, float[] keys, int kOff, int kStride, int headDim, int n,
                                float scale, float[] out);

    /**
     * The attention output of one head: {@code out[outOff + j] = sum_t p[t] * values[vOff + t * vStride + j]}
     * for j in [0, headDim), summed over t in [0, n) in order.
     */
    public abstract void weightedSum(float[] p, int n, float[] values, int vOff, int vStride, int headDim,
                                     float[] out, int outOff);
}
