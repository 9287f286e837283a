package dev.ascendj.cpu.reference;

import dev.ascendj.core.DType;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Reduction;
import java.util.Arrays;
import java.util.List;

/**
 * Double-precision reference implementations of every kernel of {@link dev.ascendj.core.Ops},
 * used as ground truth: the {@code ascendj selftest} command and the tests compare the real
 * kernels against these.
 *
 * <p>They are deliberately naive: plain loops written straight from the formulas in the
 * {@code Ops} javadoc, no BLAS, no threads, no tiling, no clever rearrangement (backward passes
 * recompute what they need from the inputs rather than trusting saved state where the contract
 * allows it). Speed does not matter here; being obviously right does.
 *
 * <p>Conventions: tensors are dense row-major {@code double[]} arrays, and shapes are passed
 * explicitly (their letters as in {@code Ops}: B batch, S sequence, H heads or hidden size, G
 * key/value heads, D head dimension, N rows, V vocabulary). Index tensors are {@code long[]}.
 * Outputs are arrays the caller allocated; like the kernels they are overwritten (except where
 * a kernel accumulates). Arguments of the wrong length or out of range throw
 * {@link IllegalArgumentException}.
 */
public final class ReferenceKernels {
    private ReferenceKernels() {
    }

    // ------------------------------------------------------------------ elementwise and copies

    /** Sets every element of {@code out} to {@code value}. */
    public static void fill(double[] out, double value) {
        for (int i = 0; i < out.length; i++) {
            out[i] = value;
        }
    }

    /**
     * The value a tensor of floating-point type {@code dtype} holds after storing {@code x}:
     * rounded to the nearest representable value, ties to even, magnitudes beyond the largest
     * finite value (after rounding) to infinity, subnormals kept. NaN stays NaN.
     *
     * <p>Computed from the format's parameters (precision, minimum exponent, largest value) rather
     * than by bit manipulation, so it is an independent check of {@link dev.ascendj.core.Half}.
     */
    public static double roundTo(DType dtype, double x) {
        int mantissaBits;
        int minExponent;
        double maxFinite;
        switch (dtype) {
            case FP32 -> {
                mantissaBits = 23;
                minExponent = -126;
                maxFinite = Float.MAX_VALUE;
            }
            case FP16 -> {
                mantissaBits = 10;
                minExponent = -14;
                maxFinite = 65504.0;
            }
            case BF16 -> {
                mantissaBits = 7;
                minExponent = -126;
                maxFinite = (2.0 - Math.scalb(1.0, -7)) * Math.scalb(1.0, 127);
            }
            default -> throw new IllegalArgumentException("roundTo: " + dtype + " is not a floating-point type");
        }
        if (Double.isNaN(x) || Double.isInfinite(x) || x == 0) {
            return x;
        }
        // Spacing of representable values around x; below the normal range the spacing stays
        // that of the smallest normal exponent (subnormals).
        int exponent = Math.max(Math.getExponent(x), minExponent);
        double ulp = Math.scalb(1.0, exponent - mantissaBits);
        double rounded = Math.rint(x / ulp) * ulp; // x / ulp is exact; rint rounds ties to even
        if (Math.abs(rounded) > maxFinite) {
            return Math.copySign(Double.POSITIVE_INFINITY, x);
        }
        return rounded;
    }

    /**
     * Copies {@code src} into {@code out} as a tensor of floating-point type {@code dtype} would
     * store it (see {@link #roundTo}). Integer target types are not covered.
     */
    public static void cast(double[] src, DType dtype, double[] out) {
        requireLength("cast", "out", out, src.length);
        for (int i = 0; i < src.length; i++) {
            out[i] = roundTo(dtype, src[i]);
        }
    }

    /**
     * {@code out = a + alpha * b}, with {@code b} broadcast over leading axes: {@code bShape}
     * must equal a suffix of {@code aShape} (possibly all of it). {@code out} may be {@code a}.
     */
    public static void add(double[] a, int[] aShape, double[] b, int[] bShape, double alpha, double[] out) {
        requireSuffixBroadcast("add", a, aShape, b, bShape, out);
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + alpha * b[i % b.length];
        }
    }

    /** {@code out = a * b} elementwise, broadcasting {@code b} as in {@link #add}. {@code out} may be {@code a}. */
    public static void mul(double[] a, int[] aShape, double[] b, int[] bShape, double[] out) {
        requireSuffixBroadcast("mul", a, aShape, b, bShape, out);
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * b[i % b.length];
        }
    }

    /** {@code out = a * s}. {@code out} may be {@code a}. */
    public static void muls(double[] a, double s, double[] out) {
        requireLength("muls", "out", out, a.length);
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * s;
        }
    }

    // ------------------------------------------------------------------ matrix multiply

    /**
     * {@code out = alpha * op(a) @ op(b) + beta * out} for 2D matrices: {@code op(a)} is [M, K]
     * (so {@code a} is stored [K, M] when {@code transA}), {@code op(b)} is [K, N], {@code out}
     * [M, N]. With {@code beta == 0} the old contents of {@code out} are ignored (not multiplied,
     * so a NaN there does not leak), as in BLAS.
     */
    public static void matmul(double[] a, boolean transA, double[] b, boolean transB, double[] out,
                              int m, int k, int n, double alpha, double beta) {
        matmul(a, transA, b, transB, out, 1, m, k, n, false, alpha, beta);
    }

    /**
     * Batched {@link #matmul(double[], boolean, double[], boolean, double[], int, int, int, double, double)}:
     * {@code a} holds {@code batch} matrices one after another, {@code out} is [batch, M, N], and
     * {@code b} holds either {@code batch} matrices or, when {@code sharedB}, a single one used for
     * every batch entry (a Linear layer applied to [batch, M, K] activations). Unlike {@code Ops},
     * {@code a} may be transposed in the shared case too.
     */
    public static void matmul(double[] a, boolean transA, double[] b, boolean transB, double[] out,
                              int batch, int m, int k, int n, boolean sharedB, double alpha, double beta) {
        requireLength("matmul", "a", a, (long) batch * m * k);
        requireLength("matmul", "b", b, (sharedB ? 1L : batch) * k * n);
        requireLength("matmul", "out", out, (long) batch * m * n);
        for (int t = 0; t < batch; t++) {
            int aBase = t * m * k;
            int bBase = sharedB ? 0 : t * k * n;
            int outBase = t * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double aip = transA ? a[aBase + p * m + i] : a[aBase + i * k + p];
                        double bpj = transB ? b[bBase + j * k + p] : b[bBase + p * n + j];
                        sum += aip * bpj;
                    }
                    double old = beta == 0 ? 0 : beta * out[outBase + i * n + j];
                    out[outBase + i * n + j] = alpha * sum + old;
                }
            }
        }
    }

    // ------------------------------------------------------------------ RMSNorm

    /**
     * RMSNorm over rows of length {@code h}: {@code out = x * rstd * weight} with
     * {@code rstd = 1 / sqrt(mean(x^2) + eps)} per row. {@code x} and {@code out} are [rows, h],
     * {@code weight} [h]; {@code rstd} [rows] receives the reciprocal RMS, or is null.
     */
    public static void rmsNorm(double[] x, int rows, int h, double[] weight, double eps, double[] out, double[] rstd) {
        requireLength("rmsNorm", "x", x, (long) rows * h);
        requireLength("rmsNorm", "weight", weight, h);
        requireLength("rmsNorm", "out", out, (long) rows * h);
        if (rstd != null) {
            requireLength("rmsNorm", "rstd", rstd, rows);
        }
        for (int r = 0; r < rows; r++) {
            double sumSq = 0;
            for (int j = 0; j < h; j++) {
                sumSq += x[r * h + j] * x[r * h + j];
            }
            double rs = 1.0 / Math.sqrt(sumSq / h + eps);
            for (int j = 0; j < h; j++) {
                out[r * h + j] = x[r * h + j] * rs * weight[j];
            }
            if (rstd != null) {
                rstd[r] = rs;
            }
        }
    }

    /**
     * Backward of {@link #rmsNorm} from the saved {@code rstd} (the contract passes no eps, so
     * rstd cannot be recomputed). With {@code g = dy * weight} and {@code r = rstd} per row:
     * {@code dx_j = r * g_j - r^3 / h * x_j * sum_k(g_k * x_k)}, and
     * {@code dWeight_j = sum over rows of dy_j * x_j * r} (overwritten; skipped when null).
     */
    public static void rmsNormGrad(double[] dy, double[] x, int rows, int h, double[] weight, double[] rstd,
                                   double[] dx, double[] dWeight) {
        requireLength("rmsNormGrad", "dy", dy, (long) rows * h);
        requireLength("rmsNormGrad", "x", x, (long) rows * h);
        requireLength("rmsNormGrad", "weight", weight, h);
        requireLength("rmsNormGrad", "rstd", rstd, rows);
        requireLength("rmsNormGrad", "dx", dx, (long) rows * h);
        if (dWeight != null) {
            requireLength("rmsNormGrad", "dWeight", dWeight, h);
            fill(dWeight, 0);
        }
        for (int row = 0; row < rows; row++) {
            double r = rstd[row];
            double dot = 0;
            for (int k = 0; k < h; k++) {
                dot += dy[row * h + k] * weight[k] * x[row * h + k];
            }
            for (int j = 0; j < h; j++) {
                double g = dy[row * h + j] * weight[j];
                dx[row * h + j] = r * g - r * r * r / h * x[row * h + j] * dot;
                if (dWeight != null) {
                    dWeight[j] += dy[row * h + j] * x[row * h + j] * r;
                }
            }
        }
    }

    // ------------------------------------------------------------------ rotary embedding

    /**
     * Rotary embedding, rotate-half form: for each head vector {@code x} [D] at position p,
     * {@code out = x * cos(a) + rotateHalf(x) * sin(a)} with {@code a_i = (p / scale) * theta^(-2i/D)}
     * for i &lt; D/2, the same angles for both halves, and {@code rotateHalf([x1, x2]) = [-x2, x1]}.
     * {@code x} and {@code out} are [B, S, H, D] ({@code out} may be {@code x});
     * {@code positions} has S elements (shared by the batch) or B*S (one row per batch entry).
     */
    public static void rotaryPositionEmbedding(double[] x, int b, int s, int h, int d, long[] positions,
                                               double theta, double scale, double[] out) {
        rotate("rotaryPositionEmbedding", x, b, s, h, d, positions, theta, scale, false, out);
    }

    /**
     * Backward of {@link #rotaryPositionEmbedding}: the forward is a rotation of each pair
     * {@code (x_i, x_{i+D/2})} by angle {@code a_i}, so the gradient is the rotation by
     * {@code -a_i} (its transpose) applied to {@code dy}. {@code dx} may be {@code dy}.
     */
    public static void rotaryPositionEmbeddingGrad(double[] dy, int b, int s, int h, int d, long[] positions,
                                                   double theta, double scale, double[] dx) {
        rotate("rotaryPositionEmbeddingGrad", dy, b, s, h, d, positions, theta, scale, true, dx);
    }

    private static void rotate(String kernel, double[] x, int b, int s, int h, int d, long[] positions,
                               double theta, double scale, boolean inverse, double[] out) {
        long n = (long) b * s * h * d;
        requireLength(kernel, "input", x, n);
        requireLength(kernel, "output", out, n);
        if (d % 2 != 0) {
            throw new IllegalArgumentException(kernel + ": head dimension " + d + " must be even");
        }
        boolean perBatch = positions.length == b * s && positions.length != s;
        if (positions.length != s && !perBatch) {
            throw new IllegalArgumentException(kernel + ": positions has " + positions.length
                    + " elements, expected S = " + s + " or B*S = " + (b * s));
        }
        int half = d / 2;
        double sign = inverse ? -1 : 1;
        double[] vec = new double[d];
        for (int bi = 0; bi < b; bi++) {
            for (int si = 0; si < s; si++) {
                long p = perBatch ? positions[bi * s + si] : positions[si];
                for (int hi = 0; hi < h; hi++) {
                    int base = ((bi * s + si) * h + hi) * d;
                    System.arraycopy(x, base, vec, 0, d); // out may be x
                    for (int j = 0; j < d; j++) {
                        int i = j % half;
                        double angle = sign * (p / scale) * Math.pow(theta, -2.0 * i / d);
                        double rotated = j < half ? -vec[j + half] : vec[j - half];
                        out[base + j] = vec[j] * Math.cos(angle) + rotated * Math.sin(angle);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ attention

    /**
     * Scaled dot-product attention with grouped-query heads. {@code q} and {@code out} are
     * [B, Sq, H, D], {@code k} and {@code v} [B, Sk, G, D]; query head {@code hq} reads key/value
     * head {@code hq / (H / G)}. For each query row i:
     * {@code s_j = scale * q_i . k_j} over the visible keys j (all, or with {@code causal} those
     * with {@code j <= i + Sk - Sq}), {@code p = softmax(s)}, {@code out_i = sum_j p_j v_j}, and
     * {@code lse} [B, H, Sq] (or null) receives {@code log(sum_j exp(s_j))}.
     *
     * <p>A causal row that sees no key at all (only possible when Sq &gt; Sk) gets zeros and
     * {@code lse = -infinity}: the contract does not define it, and zero is the limit of an empty sum.
     */
    public static void flashAttentionScore(double[] q, double[] k, double[] v, int b, int sq, int sk, int h, int g,
                                           int d, double scale, boolean causal, double[] out, double[] lse) {
        checkAttention("flashAttentionScore", q, k, v, b, sq, sk, h, g, d);
        requireLength("flashAttentionScore", "out", out, (long) b * sq * h * d);
        if (lse != null) {
            requireLength("flashAttentionScore", "lse", lse, (long) b * h * sq);
        }
        double[] p = new double[sk];
        for (int bi = 0; bi < b; bi++) {
            for (int hq = 0; hq < h; hq++) {
                int hk = hq / (h / g);
                for (int i = 0; i < sq; i++) {
                    double rowLse = probabilities(q, k, bi, i, hq, hk, sq, sk, h, g, d, scale, causal, p);
                    for (int c = 0; c < d; c++) {
                        double sum = 0;
                        for (int j = 0; j < sk; j++) {
                            sum += p[j] * v[kvIndex(bi, j, hk, c, sk, g, d)];
                        }
                        out[qIndex(bi, i, hq, c, sq, h, d)] = sum;
                    }
                    if (lse != null) {
                        lse[(bi * h + hq) * sq + i] = rowLse;
                    }
                }
            }
        }
    }

    /**
     * Backward of {@link #flashAttentionScore}: the gradients of {@code sum(out * dOut)}. The
     * probabilities are recomputed from {@code q} and {@code k} (not taken from a saved
     * {@code out}/{@code lse}), then for each query row:
     * {@code dv_j += p_j dOut_i}, {@code dp_j = dOut_i . v_j},
     * {@code ds_j = p_j (dp_j - sum_l p_l dp_l)}, {@code dq_i = scale * sum_j ds_j k_j},
     * {@code dk_j += scale * ds_j q_i}. Key/value gradients sum over the query heads sharing them.
     * {@code dq} [B, Sq, H, D], {@code dk} and {@code dv} [B, Sk, G, D] are overwritten.
     */
    public static void flashAttentionScoreGrad(double[] dOut, double[] q, double[] k, double[] v, int b, int sq,
                                               int sk, int h, int g, int d, double scale, boolean causal,
                                               double[] dq, double[] dk, double[] dv) {
        String kernel = "flashAttentionScoreGrad";
        checkAttention(kernel, q, k, v, b, sq, sk, h, g, d);
        requireLength(kernel, "dOut", dOut, (long) b * sq * h * d);
        requireLength(kernel, "dq", dq, (long) b * sq * h * d);
        requireLength(kernel, "dk", dk, (long) b * sk * g * d);
        requireLength(kernel, "dv", dv, (long) b * sk * g * d);
        fill(dk, 0);
        fill(dv, 0);
        double[] p = new double[sk];
        double[] dp = new double[sk];
        for (int bi = 0; bi < b; bi++) {
            for (int hq = 0; hq < h; hq++) {
                int hk = hq / (h / g);
                for (int i = 0; i < sq; i++) {
                    probabilities(q, k, bi, i, hq, hk, sq, sk, h, g, d, scale, causal, p);
                    double weighted = 0;
                    for (int j = 0; j < sk; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) {
                            dot += dOut[qIndex(bi, i, hq, c, sq, h, d)] * v[kvIndex(bi, j, hk, c, sk, g, d)];
                        }
                        dp[j] = dot;
                        weighted += p[j] * dot;
                    }
                    for (int c = 0; c < d; c++) {
                        dq[qIndex(bi, i, hq, c, sq, h, d)] = 0;
                    }
                    for (int j = 0; j < sk; j++) {
                        double ds = p[j] * (dp[j] - weighted);
                        for (int c = 0; c < d; c++) {
                            int qi = qIndex(bi, i, hq, c, sq, h, d);
                            int kj = kvIndex(bi, j, hk, c, sk, g, d);
                            dv[kj] += p[j] * dOut[qi];
                            dq[qi] += scale * ds * k[kj];
                            dk[kj] += scale * ds * q[qi];
                        }
                    }
                }
            }
        }
    }

    /**
     * Fills {@code p} [Sk] with the attention probabilities of query row {@code i} of head
     * {@code hq} (zero for hidden keys) and returns the row's log-sum-exp.
     */
    private static double probabilities(double[] q, double[] k, int bi, int i, int hq, int hk, int sq, int sk,
                                        int h, int g, int d, double scale, boolean causal, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < sk; j++) {
            if (causal && j > i + sk - sq) {
                p[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int c = 0; c < d; c++) {
                dot += q[qIndex(bi, i, hq, c, sq, h, d)] * k[kvIndex(bi, j, hk, c, sk, g, d)];
            }
            p[j] = scale * dot;
            max = Math.max(max, p[j]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            fill(p, 0); // no visible key
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        for (int j = 0; j < sk; j++) {
            p[j] = Math.exp(p[j] - max); // exp(-inf) = 0 for hidden keys
            sum += p[j];
        }
        for (int j = 0; j < sk; j++) {
            p[j] /= sum;
        }
        return max + Math.log(sum);
    }

    private static int qIndex(int bi, int i, int hq, int c, int sq, int h, int d) {
        return ((bi * sq + i) * h + hq) * d + c;
    }

    private static int kvIndex(int bi, int j, int hk, int c, int sk, int g, int d) {
        return ((bi * sk + j) * g + hk) * d + c;
    }

    private static void checkAttention(String kernel, double[] q, double[] k, double[] v, int b, int sq, int sk,
                                       int h, int g, int d) {
        if (g <= 0 || h % g != 0) {
            throw new IllegalArgumentException(kernel + ": H = " + h + " query heads are not divisible by G = "
                    + g + " key/value heads");
        }
        requireLength(kernel, "q", q, (long) b * sq * h * d);
        requireLength(kernel, "k", k, (long) b * sk * g * d);
        requireLength(kernel, "v", v, (long) b * sk * g * d);
    }

    // ------------------------------------------------------------------ SwiGLU

    /** {@code out = silu(gate) * up} with {@code silu(x) = x * sigmoid(x)}; all the same length. */
    public static void swiGlu(double[] gate, double[] up, double[] out) {
        requireLength("swiGlu", "up", up, gate.length);
        requireLength("swiGlu", "out", out, gate.length);
        for (int i = 0; i < gate.length; i++) {
            out[i] = gate[i] * sigmoid(gate[i]) * up[i];
        }
    }

    /**
     * Backward of {@link #swiGlu}: {@code dUp = dOut * silu(gate)} and
     * {@code dGate = dOut * up * silu'(gate)} with {@code silu'(x) = sigmoid(x) * (1 + x * (1 - sigmoid(x)))}.
     */
    public static void swiGluGrad(double[] dOut, double[] gate, double[] up, double[] dGate, double[] dUp) {
        requireLength("swiGluGrad", "dOut", dOut, gate.length);
        requireLength("swiGluGrad", "up", up, gate.length);
        requireLength("swiGluGrad", "dGate", dGate, gate.length);
        requireLength("swiGluGrad", "dUp", dUp, gate.length);
        for (int i = 0; i < gate.length; i++) {
            double sg = sigmoid(gate[i]);
            dUp[i] = dOut[i] * gate[i] * sg;
            dGate[i] = dOut[i] * up[i] * sg * (1 + gate[i] * (1 - sg));
        }
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    // ------------------------------------------------------------------ embedding

    /** Row lookup: {@code out[t] = weight[ids[t]]}; {@code weight} [V, H], {@code out} [ids.length, H]. */
    public static void embedding(double[] weight, int v, int h, long[] ids, double[] out) {
        requireLength("embedding", "weight", weight, (long) v * h);
        requireLength("embedding", "out", out, (long) ids.length * h);
        for (int t = 0; t < ids.length; t++) {
            int row = checkIndex("embedding", "id", ids[t], t, v);
            for (int j = 0; j < h; j++) {
                out[t * h + j] = weight[row * h + j];
            }
        }
    }

    /**
     * Backward of {@link #embedding}: {@code dWeight} [V, H] is overwritten with, for each row,
     * the sum of the {@code dOut} rows [ids.length, H] whose id is that row (zero if none).
     */
    public static void embeddingDenseBackward(double[] dOut, long[] ids, int v, int h, double[] dWeight) {
        requireLength("embeddingDenseBackward", "dOut", dOut, (long) ids.length * h);
        requireLength("embeddingDenseBackward", "dWeight", dWeight, (long) v * h);
        fill(dWeight, 0);
        for (int t = 0; t < ids.length; t++) {
            int row = checkIndex("embeddingDenseBackward", "id", ids[t], t, v);
            for (int j = 0; j < h; j++) {
                dWeight[row * h + j] += dOut[t * h + j];
            }
        }
    }

    // ------------------------------------------------------------------ cross-entropy

    /**
     * Softmax cross-entropy over rows of {@code logits} [N, V]: row r with label {@code y != ignoreIndex}
     * loses {@code lse_r - logits[r, y]}, with {@code lse_r = log(sum_c exp(logits[r, c]))}; ignored
     * rows lose 0. {@code loss} has one element for MEAN (sum over counted rows / count, 0 when none
     * counted) and SUM, N for NONE. {@code lse} [N] (or null) receives every row's log-sum-exp,
     * ignored rows included.
     *
     * @return the number of rows that counted
     */
    public static long crossEntropyLoss(double[] logits, int n, int v, long[] labels, int ignoreIndex,
                                        Reduction reduction, double[] loss, double[] lse) {
        String kernel = "crossEntropyLoss";
        requireLength(kernel, "logits", logits, (long) n * v);
        requireLength(kernel, "labels", labels.length, n);
        requireLength(kernel, "loss", loss, reduction == Reduction.NONE ? n : 1);
        if (lse != null) {
            requireLength(kernel, "lse", lse, n);
        }
        long counted = 0;
        double total = 0;
        for (int r = 0; r < n; r++) {
            double rowLse = logSumExp(logits, r, v);
            if (lse != null) {
                lse[r] = rowLse;
            }
            double rowLoss = 0;
            if (labels[r] != ignoreIndex) {
                int y = checkIndex(kernel, "label", labels[r], r, v);
                rowLoss = rowLse - logits[r * v + y];
                counted++;
                total += rowLoss;
            }
            if (reduction == Reduction.NONE) {
                loss[r] = rowLoss;
            }
        }
        if (reduction == Reduction.SUM) {
            loss[0] = total;
        } else if (reduction == Reduction.MEAN) {
            loss[0] = counted == 0 ? 0 : total / counted;
        }
        return counted;
    }

    /**
     * Backward of {@link #crossEntropyLoss} for MEAN or SUM:
     * {@code dLogits[r, c] = gradScale * (softmax(logits_r)_c - [c == y_r]) / count} for counted
     * rows (without {@code / count} for SUM), zeros for ignored rows. The softmax is recomputed
     * from {@code logits}. {@code dLogits} is [N, V].
     */
    public static void crossEntropyLossGrad(double[] logits, int n, int v, long[] labels, int ignoreIndex,
                                            Reduction reduction, double gradScale, double[] dLogits) {
        String kernel = "crossEntropyLossGrad";
        if (reduction == Reduction.NONE) {
            throw new IllegalArgumentException(kernel + ": reduction NONE has no scalar loss to differentiate");
        }
        requireLength(kernel, "logits", logits, (long) n * v);
        requireLength(kernel, "labels", labels.length, n);
        requireLength(kernel, "dLogits", dLogits, (long) n * v);
        long counted = 0;
        for (int r = 0; r < n; r++) {
            if (labels[r] != ignoreIndex) {
                checkIndex(kernel, "label", labels[r], r, v);
                counted++;
            }
        }
        double factor = reduction == Reduction.MEAN ? (counted == 0 ? 0 : gradScale / counted) : gradScale;
        for (int r = 0; r < n; r++) {
            if (labels[r] == ignoreIndex) {
                for (int c = 0; c < v; c++) {
                    dLogits[r * v + c] = 0;
                }
                continue;
            }
            double rowLse = logSumExp(logits, r, v);
            for (int c = 0; c < v; c++) {
                double softmax = Math.exp(logits[r * v + c] - rowLse);
                double target = c == labels[r] ? 1 : 0;
                dLogits[r * v + c] = factor * (softmax - target);
            }
        }
    }

    private static double logSumExp(double[] x, int row, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < v; c++) {
            max = Math.max(max, x[row * v + c]);
        }
        double sum = 0;
        for (int c = 0; c < v; c++) {
            sum += Math.exp(x[row * v + c] - max);
        }
        return max + Math.log(sum);
    }

    // ------------------------------------------------------------------ optimizer and reductions

    /**
     * One AdamW step in place, exactly as the {@code Ops} formula reads:
     * {@code m = b1*m + (1-b1)*g}, {@code v = b2*v + (1-b2)*g^2},
     * {@code p = p - lr*wd*p - lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)} with t = {@code step} &ge; 1
     * (both terms use the old p).
     */
    public static void applyAdamW(double[] param, double[] grad, double[] m, double[] v, double lr, double beta1,
                                  double beta2, double eps, double weightDecay, long step) {
        if (step < 1) {
            throw new IllegalArgumentException("applyAdamW: step must count from 1, got " + step);
        }
        requireLength("applyAdamW", "grad", grad, param.length);
        requireLength("applyAdamW", "m", m, param.length);
        requireLength("applyAdamW", "v", v, param.length);
        double correction1 = 1 - Math.pow(beta1, step);
        double correction2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < param.length; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
            v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
            double mHat = m[i] / correction1;
            double vHat = v[i] / correction2;
            param[i] = param[i] - lr * weightDecay * param[i] - lr * mHat / (Math.sqrt(vHat) + eps);
        }
    }

    /**
     * NF4 quantization with absmax scaling per block of {@link Nf4#BLOCK_SIZE}:
     * {@code absmax[blk] = max |src|} over the block, and element i gets the index of the
     * codebook value nearest to {@code src[i] / absmax[i / 64]} (ties to the lower index; an
     * all-zero block gets the zero code 7). {@code packed} holds ceil(n/2) bytes, element 2k in the
     * low nibble of byte k and 2k+1 in its high nibble (0 past the end).
     */
    public static void nf4Quantize(double[] src, byte[] packed, double[] absmax) {
        int n = src.length;
        requireLength("nf4Quantize", "packed", packed.length, (n + 1) / 2);
        requireLength("nf4Quantize", "absmax", absmax, Nf4.blocks(n));
        Arrays.fill(packed, (byte) 0);
        for (int blk = 0; blk < absmax.length; blk++) {
            double max = 0;
            for (int i = blk * Nf4.BLOCK_SIZE; i < Math.min(n, (blk + 1) * Nf4.BLOCK_SIZE); i++) {
                max = Math.max(max, Math.abs(src[i]));
            }
            absmax[blk] = max;
        }
        for (int i = 0; i < n; i++) {
            double scale = absmax[i / Nf4.BLOCK_SIZE];
            int code = scale == 0 ? 7 : nearestCode(src[i] / scale);
            packed[i / 2] |= (byte) (i % 2 == 0 ? code : code << 4);
        }
    }

    /** Inverse of {@link #nf4Quantize}: {@code out[i] = code[nibble i of packed] * absmax[i / 64]}. */
    public static void nf4Dequantize(byte[] packed, double[] absmax, double[] out) {
        int n = out.length;
        requireLength("nf4Dequantize", "packed", packed.length, (n + 1) / 2);
        requireLength("nf4Dequantize", "absmax", absmax, Nf4.blocks(n));
        for (int i = 0; i < n; i++) {
            int code = i % 2 == 0 ? packed[i / 2] & 0x0f : (packed[i / 2] >> 4) & 0x0f;
            out[i] = Nf4.value(code) * absmax[i / Nf4.BLOCK_SIZE];
        }
    }

    /**
     * Dequantizes a double-quantized NF4 tensor (the layout of {@link dev.ascendj.core.Nf4Weight}):
     * {@code absmax[b] = absmaxCode[absmaxCodes[b]] * scales[b / 256] + offset} and
     * {@code out[i] = code[nibble i of packed] * absmax[i / 64]}.
     */
    public static void nf4DoubleDequantize(byte[] packed, byte[] absmaxCodes, double[] scales, double offset,
                                           double[] out) {
        int n = out.length;
        requireLength("nf4DoubleDequantize", "absmaxCodes", absmaxCodes.length, Nf4.blocks(n));
        requireLength("nf4DoubleDequantize", "scales", scales, Nf4.absmaxBlocks(n));
        double[] absmax = new double[absmaxCodes.length];
        for (int b = 0; b < absmax.length; b++) {
            absmax[b] = Nf4.absmaxValue(absmaxCodes[b] & 0xff) * scales[b / Nf4.ABSMAX_BLOCK_SIZE] + offset;
        }
        nf4Dequantize(packed, absmax, out);
    }

    /**
     * {@code out = alpha * x @ op(W) + beta * out} for the [rows, cols] double-quantized NF4 matrix
     * W: {@code op(W) = W^T} when {@code transW} ({@code x} [n, cols], {@code out} [n, rows]),
     * else W ({@code x} [n, rows], {@code out} [n, cols]). W is dequantized whole, in double.
     */
    public static void nf4Matmul(double[] x, int n, byte[] packed, byte[] absmaxCodes, double[] scales, double offset,
                                 int rows, int cols, boolean transW, double[] out, double alpha, double beta) {
        double[] w = new double[rows * cols];
        nf4DoubleDequantize(packed, absmaxCodes, scales, offset, w);
        if (transW) {
            matmul(x, false, w, true, out, n, cols, rows, alpha, beta);
        } else {
            matmul(x, false, w, false, out, n, rows, cols, alpha, beta);
        }
    }

    /** The index of the codebook value nearest to {@code x} by a linear scan; the lower index wins a tie. */
    private static int nearestCode(double x) {
        int best = 0;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int c = 0; c < 16; c++) {
            double distance = Math.abs(x - Nf4.value(c));
            if (distance < bestDistance) {
                best = c;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** Sum of the squares of all elements. */
    public static double sumOfSquares(double[] x) {
        double s = 0;
        for (double e : x) {
            s += e * e;
        }
        return s;
    }

    /** True when no element is NaN or infinite. */
    public static boolean allFinite(double[] x) {
        for (double e : x) {
            if (!Double.isFinite(e)) {
                return false;
            }
        }
        return true;
    }

    /** The L2 norm of all elements of all arrays. */
    public static double globalNorm(List<double[]> tensors) {
        double s = 0;
        for (double[] t : tensors) {
            s += sumOfSquares(t);
        }
        return Math.sqrt(s);
    }

    // ------------------------------------------------------------------ argument checks

    private static void requireLength(String kernel, String name, double[] array, long expected) {
        requireLength(kernel, name, array.length, expected);
    }

    private static void requireLength(String kernel, String name, int length, long expected) {
        if (length != expected) {
            throw new IllegalArgumentException(kernel + ": " + name + " has " + length + " elements, expected "
                    + expected);
        }
    }

    private static int checkIndex(String kernel, String what, long value, int position, int bound) {
        if (value < 0 || value >= bound) {
            throw new IllegalArgumentException(kernel + ": " + what + " " + value + " at position " + position
                    + " is outside [0, " + bound + ")");
        }
        return (int) value;
    }

    private static void requireSuffixBroadcast(String kernel, double[] a, int[] aShape, double[] b, int[] bShape,
                                               double[] out) {
        requireLength(kernel, "a", a, numel(aShape));
        requireLength(kernel, "b", b, numel(bShape));
        requireLength(kernel, "out", out, a.length);
        boolean suffix = bShape.length <= aShape.length;
        for (int i = 0; suffix && i < bShape.length; i++) {
            suffix = bShape[bShape.length - 1 - i] == aShape[aShape.length - 1 - i];
        }
        if (!suffix) {
            throw new IllegalArgumentException(kernel + ": b " + Arrays.toString(bShape)
                    + " is not a suffix of a " + Arrays.toString(aShape));
        }
    }

    private static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
