package dev.ascendj.model.decode;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Nf4Weight;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix W [rows, cols] (a linear layer's [out, in]) laid out for the decode kernels:
 * in panels of {@code width} consecutive rows of W, each panel stored k-major (for every input
 * index k, the panel's {@code width} weights side by side). A product {@code y = x W^T} then
 * reads each panel as one contiguous stream and writes {@code width} outputs at a time, with no
 * horizontal sums: every output is one chain of fused multiply-adds over k in order, whatever
 * the panel width, the number of input rows or the thread that computes it.
 *
 * <p>The last panel is padded with zero rows. Storage keeps the model's element type: FP32,
 * FP16 or BF16 bits, or QLoRA's NF4 codes with their block maxima (see {@link Nf4Panels}).
 */
public abstract sealed class PackedMatrix permits PackedMatrix.F32Panels, PackedMatrix.HalfPanels,
        PackedMatrix.Nf4Panels {
    private final int rows;
    private final int cols;
    private final int width;

    PackedMatrix(int rows, int cols, int width) {
        if (rows < 1 || cols < 1 || width < 2 || width % 2 != 0) {
            throw new IllegalArgumentException("cannot pack a " + rows + " x " + cols + " matrix in panels of " + width);
        }
        this.rows = rows;
        this.cols = cols;
        this.width = width;
    }

    /** Rows of W (output features). */
    public int rows() {
        return rows;
    }

    /** Columns of W (input features, the reduction length). */
    public int cols() {
        return cols;
    }

    /** Rows of W per panel. */
    public int width() {
        return width;
    }

    /** Number of panels, the last one possibly padded. */
    public int panels() {
        return (rows + width - 1) / width;
    }

    /** Bytes held on the heap. */
    public abstract long bytes();

    /** The element type the weights are stored in. */
    public abstract DType dtype();

    /** Packs a dense 2D floating-point tensor [rows, cols] (FP32, FP16 or BF16), keeping its type. */
    public static PackedMatrix pack(Tensor weight, int width) {
        if (weight.rank() != 2 || !weight.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("a packed weight must be a 2D floating-point tensor, got "
                    + weight.describe());
        }
        int r = weight.dim(0);
        int c = weight.dim(1);
        if (weight.dtype() == DType.FP32) {
            return F32Panels.of(r, c, width, weight.toFloatArray());
        }
        ByteBuffer b = weight.toBytes();
        short[] bits = new short[Math.toIntExact((long) r * c)];
        b.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(bits);
        return HalfPanels.of(r, c, width, bits, weight.dtype() == DType.BF16);
    }

    /** Packs a double-quantized NF4 weight. */
    public static PackedMatrix pack(Nf4Weight weight, int width) {
        return Nf4Panels.of(weight, width);
    }

    /** Index of element (panel p, input k, lane j) in panel-major, k-major order. */
    final long index(int p, int k, int j) {
        return ((long) p * cols + k) * width + j;
    }

    static int checkedLength(long n, int rows, int cols) {
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a " + rows + " x " + cols + " weight is too large for one decode panel"
                    + " array (" + n + " elements; at most " + (Integer.MAX_VALUE - 16) + ")");
        }
        return (int) n;
    }

    /** FP32 weights: panel p, input k, lane j at {@code data[(p * cols + k) * width + j]}. */
    public static final class F32Panels extends PackedMatrix {
        final float[] data;

        private F32Panels(int rows, int cols, int width, float[] data) {
            super(rows, cols, width);
            this.data = data;
        }

        /** Packs row-major {@code w} [rows, cols]. */
        public static F32Panels of(int rows, int cols, int width, float[] w) {
            F32Panels m = new F32Panels(rows, cols, width,
                    new float[checkedLength((long) ((rows + width - 1) / width) * width * cols, rows, cols)]);
            for (int r = 0; r < rows; r++) {
                int p = r / width;
                int j = r % width;
                for (int k = 0; k < cols; k++) {
                    m.data[(int) m.index(p, k, j)] = w[r * cols + k];
                }
            }
            return m;
        }

        @Override
        public long bytes() {
            return 4L * data.length;
        }

        @Override
        public DType dtype() {
            return DType.FP32;
        }
    }

    /** FP16 or BF16 bits, in the same order as {@link F32Panels}. */
    public static final class HalfPanels extends PackedMatrix {
        final short[] data;
        final boolean bf16;
        /** Whether any FP16 weight is an infinity or NaN (they need a slower exact widening). */
        final boolean special;

        private HalfPanels(int rows, int cols, int width, short[] data, boolean bf16) {
            super(rows, cols, width);
            this.data = data;
            this.bf16 = bf16;
            boolean sp = false;
            for (short b : data) {
                sp |= (b & 0x7c00) == 0x7c00;
            }
            this.special = !bf16 && sp;
        }

        private HalfPanels(HalfPanels packed) {
            this(packed.rows(), packed.cols(), packed.width(), packed.data, packed.bf16);
        }

        /** Packs row-major 16-bit {@code bits} [rows, cols], BF16 when {@code bf16}, else FP16. */
        public static HalfPanels of(int rows, int cols, int width, short[] bits, boolean bf16) {
            HalfPanels m = new HalfPanels(rows, cols, width,
                    new short[checkedLength((long) ((rows + width - 1) / width) * width * cols, rows, cols)], bf16);
            for (int r = 0; r < rows; r++) {
                int p = r / width;
                int j = r % width;
                for (int k = 0; k < cols; k++) {
                    m.data[(int) m.index(p, k, j)] = bits[r * cols + k];
                }
            }
            // Built again over the filled array, so that the special-value flag sees the weights.
            return new HalfPanels(m);
        }

        /** The value of stored bits {@code b}. */
        float value(short b) {
            return bf16 ? Half.bfloat16ToFloat(b) : Half.halfToFloat(b);
        }

        @Override
        public long bytes() {
            return 2L * data.length;
        }

        @Override
        public DType dtype() {
            return bf16 ? DType.BF16 : DType.FP16;
        }
    }

    /**
     * NF4 codes of a double-quantized QLoRA weight ({@link Nf4Weight}). Panel p, input k: {@code width/2}
     * bytes, byte i holding the code of lane i in its low nibble and of lane {@code i + width/2} in its
     * high nibble. A weight's value is {@code Nf4.value(code) * absmax}, computed in FP32 as the
     * kernel backend does, where absmax is the dequantized maximum of the 64-element block (of the
     * row-major flattening of W) the element belongs to.
     *
     * <p>Blocks follow the flattened matrix, so when cols is not a multiple of 64 a block may end
     * inside a row, at a different k for each lane. Each panel therefore keeps its k range as
     * segments over which no lane changes block, with the {@code width} maxima of each segment.
     */
    public static final class Nf4Panels extends PackedMatrix {
        final byte[] codes;
        /** Per panel, the index of its first segment; one extra entry ends the last panel. */
        final int[] firstSegment;
        /** First k of each segment. */
        final int[] segmentStart;
        /** {@code width} block maxima per segment. */
        final float[] absmax;
        /** The 16 NF4 values. */
        static final float[] CODEBOOK = Nf4.codebook();

        private Nf4Panels(int rows, int cols, int width, byte[] codes, int[] firstSegment, int[] segmentStart,
                          float[] absmax) {
            super(rows, cols, width);
            this.codes = codes;
            this.firstSegment = firstSegment;
            this.segmentStart = segmentStart;
            this.absmax = absmax;
        }

        static Nf4Panels of(Nf4Weight w, int width) {
            int rows = w.rows();
            int cols = w.cols();
            long n = w.numel();
            ByteBuffer codeBytes = w.codes().toBytes();
            byte[] absCodes = new byte[Math.toIntExact(w.absmaxCodes().numel())];
            w.absmaxCodes().toBytes().get(absCodes);
            float[] scales = w.absmaxScales().toFloatArray();
            float[] book = Nf4.absmaxCodebook();
            float[] blockMax = new float[absCodes.length];
            for (int b = 0; b < blockMax.length; b++) {
                // The same FP32 expression as the kernel backend's dequantizer, so the values agree exactly.
                blockMax[b] = book[absCodes[b] & 0xff] * scales[b / Nf4.ABSMAX_BLOCK_SIZE] + w.absmaxOffset();
            }
            int panels = (rows + width - 1) / width;
            int half = width / 2;
            byte[] codes = new byte[checkedLength((long) panels * cols * half, rows, cols)];
            int[] first = new int[panels + 1];
            java.util.List<int[]> starts = new java.util.ArrayList<>();
            int segments = 0;
            for (int p = 0; p < panels; p++) {
                first[p] = segments;
                java.util.TreeSet<Integer> cuts = new java.util.TreeSet<>();
                cuts.add(0);
                for (int j = 0; j < width && p * width + j < rows; j++) {
                    long base = (long) (p * width + j) * cols;
                    long firstCut = (Nf4.BLOCK_SIZE - base % Nf4.BLOCK_SIZE) % Nf4.BLOCK_SIZE;
                    for (long k = firstCut; k < cols; k += Nf4.BLOCK_SIZE) {
                        cuts.add((int) k);
                    }
                }
                int[] s = cuts.stream().mapToInt(Integer::intValue).toArray();
                starts.add(s);
                segments += s.length;
            }
            first[panels] = segments;
            int[] segStart = new int[segments];
            float[] absmax = new float[checkedLength((long) segments * width, rows, cols)];
            for (int p = 0; p < panels; p++) {
                int[] s = starts.get(p);
                for (int i = 0; i < s.length; i++) {
                    int seg = first[p] + i;
                    segStart[seg] = s[i];
                    for (int j = 0; j < width && p * width + j < rows; j++) {
                        long e = (long) (p * width + j) * cols + s[i];
                        absmax[seg * width + j] = blockMax[(int) (e / Nf4.BLOCK_SIZE)];
                    }
                }
                for (int k = 0; k < cols; k++) {
                    for (int i = 0; i < half; i++) {
                        int lo = code(codeBytes, rows, cols, p * width + i, k);
                        int hi = code(codeBytes, rows, cols, p * width + half + i, k);
                        codes[(int) (((long) p * cols + k) * half + i)] = (byte) (lo | hi << 4);
                    }
                }
            }
            if (n != (long) rows * cols) {
                throw new IllegalStateException("NF4 weight element count " + n + " is not " + rows + " x " + cols);
            }
            return new Nf4Panels(rows, cols, width, codes, first, segStart, absmax);
        }

        /** The code of W[r, k], or that of zero (index 7) for a padding row. */
        private static int code(ByteBuffer codes, int rows, int cols, int r, int k) {
            if (r >= rows) {
                return 7;
            }
            long e = (long) r * cols + k;
            int b = codes.get((int) (e >> 1));
            return (e & 1) == 0 ? b & 0x0f : (b >> 4) & 0x0f;
        }

        /** The segment of panel {@code p} that holds input index {@code k}. */
        int segment(int p, int k) {
            int lo = firstSegment[p];
            int hi = firstSegment[p + 1] - 1;
            while (lo < hi) {
                int mid = (lo + hi + 1) >>> 1;
                if (segmentStart[mid] <= k) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            return lo;
        }

        /** First k after segment {@code s} of panel {@code p}. */
        int segmentEnd(int p, int s) {
            return s + 1 < firstSegment[p + 1] ? segmentStart[s + 1] : cols();
        }

        @Override
        public long bytes() {
            return codes.length + 4L * absmax.length + 4L * segmentStart.length + 4L * firstSegment.length;
        }

        @Override
        public DType dtype() {
            return DType.NF4;
        }
    }
}
