package dev.ascendj.model.decode;

import dev.ascendj.core.FastExp;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;

/**
 * LLaMA2 inference on the CPU for generation, in the spirit of llama2.c's {@code run.c}: plain
 * loops over heap arrays, the weights packed once ({@link DecodeWeights}), every product going
 * through {@link DecodeKernels}. One {@link #forward} call runs any set of rows through the model,
 * each row a token of some sequence at the next position of that sequence's {@link Slot} (its KV
 * cache): a prompt's tokens (prefill), one new token per sequence of a batch (decoding), or both
 * at once. Products are matrix-matrix over all rows, so a batch of sequences reads the weights
 * once per step.
 *
 * <p>What one row computes does not depend on the other rows: every product output is a chain
 * of fused multiply-adds over the inputs in order (see {@link DecodeKernels}), and attention only
 * reads the row's own slot. So the logits of a sequence are bit-identical whether it runs alone
 * or batched with others, prefilled at once or token by token, on any number of threads.
 *
 * <pre>{@code
 * FastDecoder d = FastDecoder.of(model, 2);
 * FastDecoder.Slot s = d.newSlot(64);
 * float[] logits = d.forward(new FastDecoder.Slot[] {s, s, s}, new int[] {1, 310, 2087},
 *         new boolean[] {false, false, true}, vocab);      // prefill 3 tokens, logits of the last
 * }</pre>
 *
 * <p>Not thread-safe: one caller at a time (the decoder uses its worker threads itself).
 */
public final class FastDecoder {
    private final DecodeWeights weights;
    private final DecodeKernels kernels;
    private final Workers workers;
    private final LlamaConfig config;
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int kvDim;
    private final int intermediate;
    private final int vocab;
    private final int maxPositions;
    private final float eps;
    private final float ropeTheta;
    private final float ropeScale;
    private final float[][] scratch;
    /**
     * Positions per tile of a slot's keys: a multiple of every vector width (so a tile is whole
     * vectors), and four 16-lane vectors, so scoring a tile keeps four independent chains.
     */
    static final int KEY_TILE = 64;
    /** Floats past the last position in each score buffer: at least one vector of any width. */
    private static final int SCORE_PAD = 64;
    private float[][] scores = new float[0][];
    private float[] cos = new float[0];
    private float[] sin = new float[0];
    private int ropePositions;
    private Buffers buffers;

    private FastDecoder(LlamaModel model, DecodeKernels kernels, int threads) {
        this.kernels = kernels;
        this.config = model.config();
        this.weights = DecodeWeights.of(model, kernels.panelWidth());
        this.workers = Workers.shared(threads);
        this.hidden = config.hiddenSize();
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        this.kvDim = config.kvDim();
        this.intermediate = config.intermediateSize();
        this.vocab = config.vocabSize();
        this.maxPositions = (int) Math.min(Integer.MAX_VALUE / 2, config.maxSequenceLength());
        this.eps = (float) config.rmsNormEps();
        this.ropeTheta = (float) config.ropeTheta();
        this.ropeScale = config.ropeScaling() == null ? 1f : (float) config.ropeScaling().factor();
        this.scratch = new float[threads][kernels.scratchFloats()];
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("rotary embedding needs an even head dimension, got " + headDim);
        }
    }

    /** Whether the model's weights live on the CPU, where this decoder runs. */
    public static boolean supports(LlamaModel model) {
        return "cpu".equals(model.device().type());
    }

    /**
     * Heap bytes a decoder over {@code model} holds (its copy of the weights, in their storage
     * type; the embedding counted twice, as rows and, packed, as the LM head), to within a few
     * percent.
     */
    public static long heapBytes(LlamaModel model) {
        long b = 0;
        for (dev.ascendj.model.layers.Parameter p : model.parameters().values()) {
            if (model.quantizedWeights().containsKey(p.name())) {
                // Codes (half a byte) and per-segment block maxima (at most one float per 32 elements).
                b += p.numel() / 2 + p.numel() / 8;
            } else {
                b += p.numel() * (p.value().dtype() == dev.ascendj.core.DType.FP32 ? 4 : 2);
            }
        }
        if (model.config().tieWordEmbeddings()) {
            b += model.parameters().get("model.embed_tokens.weight").value().byteSize();
        }
        return b;
    }

    /** A decoder over a copy of {@code model}'s weights, with the {@linkplain DecodeKernels#preferred() preferred} kernels. */
    public static FastDecoder of(LlamaModel model, int threads) {
        return of(model, DecodeKernels.preferred(), threads);
    }

    /**
     * A decoder over a copy of {@code model}'s weights (taken now: later changes to the model are
     * not seen), computing with {@code kernels} on {@code threads} threads.
     */
    public static FastDecoder of(LlamaModel model, DecodeKernels kernels, int threads) {
        if (!supports(model)) {
            throw new IllegalArgumentException("the fast decoder runs on the CPU; the model is on " + model.device());
        }
        return new FastDecoder(model, kernels, threads);
    }

    public LlamaConfig config() {
        return config;
    }

    /** Threads the decoder computes on. */
    public int threads() {
        return workers.threads();
    }

    /** Bytes of weights the decoder holds on the heap. */
    public long weightBytes() {
        return weights.bytes();
    }

    /** Bytes of weights one token reads in one pass through the decoder layers (LM head excluded). */
    public long layerWeightBytes() {
        long b = 0;
        for (DecodeWeights.Layer l : weights.layers) {
            b += l.bytes();
        }
        return b;
    }

    /** "vector (16 float lanes), 2 threads". */
    public String describe() {
        return kernels.describe() + ", " + threads() + " thread" + (threads() == 1 ? "" : "s");
    }

    /** A new, empty KV cache for one sequence of up to {@code capacity} positions. */
    public Slot newSlot(int capacity) {
        if (capacity < 1 || capacity > maxPositions) {
            throw new IllegalArgumentException("a sequence slot holds 1 to " + maxPositions + " positions (the model's"
                    + " limit), got " + capacity);
        }
        return new Slot(capacity);
    }

    /**
     * The KV cache of one sequence: per layer and kv head, keys transposed in tiles of
     * {@link #KEY_TILE} positions ([kv head][tile][dimension][position in tile]; see
     * {@link DecodeKernels#scores}) and values ([kv head][position][dimension]), so that a head's
     * keys and its values are each one contiguous run of memory.
     */
    public final class Slot {
        private final int capacity;
        /** Positions each kv head's keys have room for: the capacity rounded up to whole tiles. */
        private final int keySlots;
        private final float[][] keys;
        private final float[][] values;
        private int length;
        /** The next free position while a step assigns positions to its rows. */
        private int next;

        private Slot(int capacity) {
            this.capacity = capacity;
            this.keySlots = Math.multiplyExact((capacity + KEY_TILE - 1) / KEY_TILE, KEY_TILE);
            int layers = config.numHiddenLayers();
            this.keys = new float[layers][Math.multiplyExact(keySlots, kvDim)];
            this.values = new float[layers][Math.multiplyExact(capacity, kvDim)];
        }

        /** Positions filled. */
        public int length() {
            return length;
        }

        public int capacity() {
            return capacity;
        }

        /** Forgets every position, for a new sequence. */
        public void reset() {
            length = 0;
        }

        FastDecoder owner() {
            return FastDecoder.this;
        }
    }

    /**
     * Runs one step. Row i is token {@code tokens[i]} of the sequence in {@code slots[i]}, at that
     * slot's next position (rows of one slot take consecutive positions in order). Afterwards each
     * slot holds its new positions.
     *
     * @param wantLogits which rows' next-token logits to return
     * @param vocabLimit logits are computed for ids below this (all of them: the vocabulary size)
     * @return the wanted rows' logits, {@code vocabLimit} per row, in row order
     */
    public float[] forward(Slot[] slots, int[] tokens, boolean[] wantLogits, int vocabLimit) {
        int m = tokens.length;
        if (slots.length != m || wantLogits.length != m) {
            throw new IllegalArgumentException("slots, tokens and wantLogits must have one entry per row, got "
                    + slots.length + ", " + m + " and " + wantLogits.length);
        }
        int wanted = 0;
        for (boolean w : wantLogits) {
            wanted += w ? 1 : 0;
        }
        float[] logits = new float[Math.multiplyExact(wanted, vocabLimit)];
        forward(slots, tokens, wantLogits, m, vocabLimit, logits);
        return logits;
    }

    /**
     * {@link #forward(Slot[], int[], boolean[], int)} over the first {@code rows} entries of the
     * arrays, writing the wanted rows' logits to {@code logits} (row j of them at
     * {@code j * vocabLimit}) instead of a new array: for callers that step many times with
     * buffers of their own. Returns the number of logit rows written.
     */
    public int forward(Slot[] slots, int[] tokens, boolean[] wantLogits, int rows, int vocabLimit, float[] logits) {
        int m = rows;
        if (m < 0 || slots.length < m || tokens.length < m || wantLogits.length < m) {
            throw new IllegalArgumentException("slots, tokens and wantLogits must have an entry for each of the " + m
                    + " rows, got " + slots.length + ", " + tokens.length + " and " + wantLogits.length);
        }
        if (vocabLimit < 1 || vocabLimit > vocab) {
            throw new IllegalArgumentException("vocabulary limit " + vocabLimit + " outside [1, " + vocab + "]");
        }
        int wanted = 0;
        for (int i = 0; i < m; i++) {
            wanted += wantLogits[i] ? 1 : 0;
        }
        if (logits.length < (long) wanted * vocabLimit) {
            throw new IllegalArgumentException("room for " + logits.length + " logits, the step returns " + wanted
                    + " rows of " + vocabLimit);
        }
        if (m == 0) {
            return 0;
        }
        Buffers b = buffers(m);
        int[] pos = positions(slots, tokens, m, b.pos);
        for (int i = 0; i < m; i++) {
            weights.embedding.row(tokens[i], b.x, i * hidden);
        }
        for (int l = 0; l < weights.layers.length; l++) {
            layer(l, weights.layers[l], slots, pos, m, b);
        }
        for (int i = 0; i < m; i++) {
            slots[i].length = Math.max(slots[i].length, pos[i] + 1);
        }
        int n = 0;
        for (int i = 0; i < m; i++) {
            if (wantLogits[i]) {
                rmsNorm(b.x, i * hidden, weights.finalNorm, b.xn, n++ * hidden);
            }
        }
        if (n > 0) {
            matmuls(new Job(weights.head, b.xn, hidden, n, logits, 0, vocabLimit, vocabLimit));
        }
        return n;
    }

    /**
     * Each row's position, into {@code pos}: its slot's length plus the rows of that slot before
     * it (counted in the slots themselves, so a step costs no map).
     */
    private int[] positions(Slot[] slots, int[] tokens, int m, int[] pos) {
        for (int i = 0; i < m; i++) {
            Slot s = slots[i];
            if (s == null || s.owner() != this) {
                throw new IllegalArgumentException("row " + i + ": the slot " + (s == null ? "is null" : "belongs to"
                        + " another decoder"));
            }
            s.next = s.length;
        }
        for (int i = 0; i < m; i++) {
            Slot s = slots[i];
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("row " + i + ": token id " + tokens[i] + " outside [0, " + vocab + ")");
            }
            int p = s.next;
            if (p >= s.capacity) {
                throw new IllegalArgumentException("row " + i + ": position " + p + " does not fit the sequence slot of "
                        + s.capacity + " positions");
            }
            pos[i] = p;
            s.next = p + 1;
        }
        return pos;
    }

    /**
     * One decoder layer over all rows. The per-row work between the products (norms, rotary
     * embedding and cache writes, SiLU, residual adds) stays on the calling thread: it is about 3%
     * of a batched step, less than what more parallel regions would risk on a busy machine, where
     * a region waits for any helper the operating system has paused.
     */
    private void layer(int l, DecodeWeights.Layer w, Slot[] slots, int[] pos, int m, Buffers b) {
        for (int i = 0; i < m; i++) {
            rmsNorm(b.x, i * hidden, w.inputNorm(), b.xn, i * hidden);
        }
        project(b.xn, hidden, m, b, new DecodeWeights.Projection[] {w.q(), w.k(), w.v()},
                new float[][] {b.q, b.k, b.v}, new int[] {hidden, kvDim, kvDim});
        ensureRope(pos, m);
        for (int i = 0; i < m; i++) {
            rope(b.q, i * hidden, heads, pos[i]);
            rope(b.k, i * kvDim, kvHeads, pos[i]);
            store(slots[i], l, pos[i], b.k, b.v, i);
        }
        attention(l, slots, pos, m, b);
        project(b.att, hidden, m, b, new DecodeWeights.Projection[] {w.o()}, new float[][] {b.tmp}, new int[] {hidden});
        add(b.x, b.tmp, 0, m * hidden);
        for (int i = 0; i < m; i++) {
            rmsNorm(b.x, i * hidden, w.postNorm(), b.xn, i * hidden);
        }
        project(b.xn, hidden, m, b, new DecodeWeights.Projection[] {w.gate(), w.up()}, new float[][] {b.g, b.u},
                new int[] {intermediate, intermediate});
        silu(b, 0, m * intermediate);
        project(b.g, intermediate, m, b, new DecodeWeights.Projection[] {w.down()}, new float[][] {b.tmp},
                new int[] {hidden});
        add(b.x, b.tmp, 0, m * hidden);
    }

    /** Writes row {@code i}'s key and value (rotated) into {@code s} at position {@code p} of layer {@code l}. */
    private void store(Slot s, int l, int p, float[] k, float[] v, int i) {
        float[] keys = s.keys[l];
        float[] values = s.values[l];
        int tile = p / KEY_TILE * KEY_TILE;
        for (int g = 0; g < kvHeads; g++) {
            int dst = g * s.keySlots * headDim + tile * headDim + p - tile;
            int src = i * kvDim + g * headDim;
            for (int d = 0; d < headDim; d++) {
                keys[dst + d * KEY_TILE] = k[src + d];
            }
            System.arraycopy(v, src, values, (g * s.capacity + p) * headDim, headDim);
        }
    }

    /**
     * {@code g = silu(g) * u} over elements {@code [from, to)}, as the kernel backend's
     * {@code swiGlu} computes it: {@code g / (1 + exp(-g)) * u} with {@link FastExp}.
     */
    private static void silu(Buffers b, int from, int to) {
        float[] e = b.e;
        for (int i = from; i < to; i++) {
            e[i] = -b.g[i];
        }
        FastExp.expShifted(e, from, to, 0f, b.tmpExp);
        for (int i = from; i < to; i++) {
            b.g[i] = b.g[i] / (1f + e[i]) * b.u[i];
        }
    }

    /**
     * Causal attention of every row over its slot's positions up to its own, one (row, kv head) per
     * work item: the heads that share a kv head run one after another, so its keys and values come
     * from memory once for the group and from cache for the other heads.
     */
    private void attention(int l, Slot[] slots, int[] pos, int m, Buffers b) {
        int group = heads / kvHeads;
        float scale = (float) (1 / Math.sqrt(headDim));
        int maxLen = 0;
        for (int i = 0; i < m; i++) {
            maxLen = Math.max(maxLen, pos[i] + 1);
        }
        // Room past the last position for a full vector of scores (the kernels then need no tail).
        int need = maxLen + SCORE_PAD;
        if (scores.length != 2 * threads() || scores[0].length < need) {
            float[][] s = new float[2 * threads()][];
            for (int t = 0; t < s.length; t++) {
                s[t] = new float[Math.max(need, 64 + SCORE_PAD)];
            }
            scores = s;
        }
        workers.run(m * kvHeads, (worker, from, to) -> {
            float[] p = scores[2 * worker];
            float[] tmp = scores[2 * worker + 1];
            for (int u = from; u < to; u++) {
                int i = u / kvHeads;
                int g = u % kvHeads;
                Slot s = slots[i];
                int n = pos[i] + 1;
                float[] keys = s.keys[l];
                float[] values = s.values[l];
                int kOff = g * s.keySlots * headDim;
                int vOff = g * s.capacity * headDim;
                for (int h = g * group; h < (g + 1) * group; h++) {
                    kernels.scores(b.q, i * hidden + h * headDim, keys, kOff, KEY_TILE, headDim, n, scale, p);
                    // Softmax as the kernel backend's attention computes it.
                    float max = FastExp.max(p, 0, n);
                    float inv = (float) (1.0 / FastExp.expShiftedSum(p, 0, n, max, tmp));
                    for (int t = 0; t < n; t++) {
                        p[t] *= inv;
                    }
                    kernels.weightedSum(p, n, values, vOff, headDim, headDim, b.att, i * hidden + h * headDim);
                }
            }
        });
    }

    /**
     * {@code outs[j] = in W_j^T} for each projection, in one parallel region, then the LoRA terms
     * {@code + scale * (in A^T) B^T} of the adapted ones.
     */
    private void project(float[] in, int inWidth, int m, Buffers b, DecodeWeights.Projection[] ps, float[][] outs,
                         int[] outWidths) {
        Job[] base = new Job[ps.length];
        int adapted = 0;
        for (int j = 0; j < ps.length; j++) {
            base[j] = new Job(ps[j].base(), in, inWidth, m, outs[j], 0, outWidths[j], outWidths[j]);
            if (ps[j].adapted()) {
                adapted++;
            }
        }
        matmuls(base);
        if (adapted == 0) {
            return;
        }
        Job[] down = new Job[adapted];
        Job[] up = new Job[adapted];
        int a = 0;
        for (int j = 0; j < ps.length; j++) {
            DecodeWeights.Projection p = ps[j];
            if (p.adapted()) {
                // t = in A^T, [m, r] at its own offset; then d = t B^T reads it back.
                int r = p.loraA().rows();
                int tOff = a * m * b.maxRank;
                down[a] = new Job(p.loraA(), in, inWidth, m, b.loraT, tOff, r, r);
                up[a] = new Job(p.loraB(), b.loraT, r, m, b.loraD, a * m * b.maxOut, outWidths[j], outWidths[j], tOff);
                a++;
            }
        }
        matmuls(down);
        matmuls(up);
        a = 0;
        for (int j = 0; j < ps.length; j++) {
            if (ps[j].adapted()) {
                float scale = ps[j].scale();
                int width = outWidths[j];
                int off = a * m * b.maxOut;
                float[] y = outs[j];
                for (int i = 0; i < m * width; i++) {
                    y[i] += scale * b.loraD[off + i];
                }
                a++;
            }
        }
    }

    /** One product of a parallel region: {@code y[yOff + r * yStride + c] = (x W^T)[r, c]} for c below colEnd. */
    private record Job(PackedMatrix w, float[] x, int xStride, int rows, float[] y, int yOff, int yStride, int colEnd,
                       int xOff) {
        Job(PackedMatrix w, float[] x, int xStride, int rows, float[] y, int yOff, int yStride, int colEnd) {
            this(w, x, xStride, rows, y, yOff, yStride, colEnd, 0);
        }

        /** Work items: the panels below colEnd. */
        int units() {
            return (Math.min(colEnd, w.rows()) + w.width() - 1) / w.width();
        }

        /**
         * Panels per work item. A single row's product streams groups of
         * {@link DecodeKernels#STREAM_GROUP} panels, so its items are whole groups and a thread's
         * share never cuts one into smaller, slower streams (two threads decoding one sequence of
         * llama2-15m: about 13% more tokens/s than with items of one panel). Batched products go
         * panel by panel.
         */
        int span() {
            return rows == 1 ? DecodeKernels.STREAM_GROUP : 1;
        }
    }

    /** The products of {@code jobs} in one parallel region, split by panels ({@link Job#span} at a time). */
    private void matmuls(Job... jobs) {
        int[] start = new int[jobs.length + 1];
        for (int j = 0; j < jobs.length; j++) {
            int sp = jobs[j].span();
            start[j + 1] = start[j] + (jobs[j].units() + sp - 1) / sp;
        }
        workers.run(start[jobs.length], (worker, from, to) -> {
            for (int j = 0; j < jobs.length; j++) {
                int lo = Math.max(from, start[j]);
                int hi = Math.min(to, start[j + 1]);
                if (lo < hi) {
                    Job job = jobs[j];
                    int sp = job.span();
                    kernels.matmul(job.w(), job.x(), job.xOff(), job.xStride(), job.rows(), job.y(), job.yOff(),
                            job.yStride(), (lo - start[j]) * sp, Math.min(job.units(), (hi - start[j]) * sp),
                            job.colEnd(), scratch[worker]);
                }
            }
        });
    }

    /** LLaMA's RMSNorm of one row, as the kernel backend computes it (sum of squares in double). */
    private void rmsNorm(float[] x, int xOff, float[] w, float[] out, int outOff) {
        double ss = 0;
        for (int j = 0; j < hidden; j++) {
            float v = x[xOff + j];
            ss += (double) v * v;
        }
        float rs = (float) (1.0 / Math.sqrt(ss / hidden + eps));
        for (int j = 0; j < hidden; j++) {
            out[outOff + j] = x[xOff + j] * rs * w[j];
        }
    }

    private static void add(float[] x, float[] d, int off, int n) {
        for (int i = off; i < off + n; i++) {
            x[i] += d[i];
        }
    }

    /** Rotate-half rotary embedding of {@code count} heads of one row at position {@code p}, in place. */
    private void rope(float[] v, int off, int count, int p) {
        int half = headDim / 2;
        int t = p * half;
        for (int h = 0; h < count; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float co = cos[t + i];
                float si = sin[t + i];
                float x1 = v[base + i];
                float x2 = v[base + i + half];
                v[base + i] = x1 * co - x2 * si;
                v[base + i + half] = x2 * co + x1 * si;
            }
        }
    }

    /** The cos/sin table up to the largest position of this step, with the angles the kernel backend uses. */
    private void ensureRope(int[] pos, int m) {
        int need = 0;
        for (int i = 0; i < m; i++) {
            need = Math.max(need, pos[i] + 1);
        }
        if (need <= ropePositions) {
            return;
        }
        int n = Math.min(maxPositions, Math.max(need, 2 * ropePositions));
        int half = headDim / 2;
        float[] c = new float[Math.multiplyExact(n, half)];
        float[] s = new float[c.length];
        for (int p = 0; p < n; p++) {
            double t = p / (double) ropeScale;
            for (int i = 0; i < half; i++) {
                double a = t * Math.pow(ropeTheta, -2.0 * i / headDim);
                c[p * half + i] = (float) Math.cos(a);
                s[p * half + i] = (float) Math.sin(a);
            }
        }
        cos = c;
        sin = s;
        ropePositions = n;
    }

    private Buffers buffers(int m) {
        if (buffers == null || buffers.rows < m) {
            buffers = new Buffers(Math.max(m, buffers == null ? 0 : buffers.rows));
        }
        return buffers;
    }

    /** Activations of one step, grown to the largest number of rows seen. */
    private final class Buffers {
        final int rows;
        final int[] pos;
        final float[] x;
        final float[] xn;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] att;
        final float[] tmp;
        final float[] g;
        final float[] u;
        final float[] e;
        final float[] tmpExp;
        final int maxRank;
        final int maxOut;
        final float[] loraT;
        final float[] loraD;

        Buffers(int rows) {
            this.rows = rows;
            pos = new int[rows];
            x = new float[rows * hidden];
            xn = new float[rows * hidden];
            q = new float[rows * hidden];
            k = new float[rows * kvDim];
            v = new float[rows * kvDim];
            att = new float[rows * hidden];
            tmp = new float[rows * hidden];
            g = new float[rows * intermediate];
            u = new float[rows * intermediate];
            e = new float[rows * intermediate];
            tmpExp = new float[rows * intermediate];
            int rank = 0;
            for (DecodeWeights.Layer l : weights.layers) {
                for (DecodeWeights.Projection p : new DecodeWeights.Projection[] {l.q(), l.k(), l.v(), l.o(), l.gate(),
                    l.up(), l.down()}) {
                    if (p.adapted()) {
                        rank = Math.max(rank, p.loraA().rows());
                    }
                }
            }
            maxRank = rank;
            maxOut = Math.max(hidden, intermediate);
            // Up to three adapters run in one region (q, k, v).
            loraT = new float[rank == 0 ? 0 : 3 * rows * rank];
            loraD = new float[rank == 0 ? 0 : 3 * rows * maxOut];
        }
    }
}
