package dev.ascendj.ascend;

import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.ADDS;
import static dev.ascendj.ascend.spi.AclnnOp.APPLY_ADAM_W_V2;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.COS;
import static dev.ascendj.ascend.spi.AclnnOp.CROSS_ENTROPY_LOSS;
import static dev.ascendj.ascend.spi.AclnnOp.CROSS_ENTROPY_LOSS_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.DIV;
import static dev.ascendj.ascend.spi.AclnnOp.EMBEDDING;
import static dev.ascendj.ascend.spi.AclnnOp.EMBEDDING_DENSE_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.EXP;
import static dev.ascendj.ascend.spi.AclnnOp.FLASH_ATTENTION_SCORE;
import static dev.ascendj.ascend.spi.AclnnOp.FLASH_ATTENTION_SCORE_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_ADD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_COPY;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.LOG;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.MATMUL;
import static dev.ascendj.ascend.spi.AclnnOp.MEAN;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;
import static dev.ascendj.ascend.spi.AclnnOp.NLL_LOSS;
import static dev.ascendj.ascend.spi.AclnnOp.NLL_LOSS_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.REDUCE_SUM;
import static dev.ascendj.ascend.spi.AclnnOp.RMS_NORM;
import static dev.ascendj.ascend.spi.AclnnOp.RMS_NORM_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.ROTARY_POSITION_EMBEDDING;
import static dev.ascendj.ascend.spi.AclnnOp.ROTARY_POSITION_EMBEDDING_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.RSQRT;
import static dev.ascendj.ascend.spi.AclnnOp.SILU;
import static dev.ascendj.ascend.spi.AclnnOp.SILU_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.SIN;
import static dev.ascendj.ascend.spi.AclnnOp.SOFTMAX;
import static dev.ascendj.ascend.spi.AclnnOp.SQRT;
import static dev.ascendj.ascend.spi.AclnnOp.SWI_GLU;
import static dev.ascendj.ascend.spi.AclnnOp.SWI_GLU_GRAD;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Nf4;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Stream;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The {@link Ops} kernels on one NPU stream, as aclnn operators chosen per SoC ({@link Soc}).
 *
 * <p>On the Atlas A2 series (910B) the fused operators are used: aclnnRmsNorm(Grad),
 * aclnnSwiGlu(Grad) (when gate and up are the two halves of one buffer, as a fused gate/up
 * projection produces), aclnnRotaryPositionEmbedding(Grad), aclnnFlashAttentionScore(Grad),
 * aclnnCrossEntropyLoss(Grad) and aclnnApplyAdamWV2 (when parameter, gradient and moments share one
 * dtype). On the Atlas training series (910A), which has none of them, each is composed from
 * primitives (Mul, Add, Mean, Rsqrt, Silu, Softmax, LogSoftmax, NLLLoss, Matmul, Cast, ...), with the
 * attention matmuls in FP16 and every matmul allowed to compute FP32 inputs in FP16
 * ({@code cubeMathType} 1), since the 910A's cube units only do FP16. Composed attention works one
 * batch element at a time, so its score matrices take {@code H * Sq * Sk} elements, not
 * {@code B} times that.
 *
 * <p>Workspaces come from the stream's pool; temporaries are released after the call and freed at
 * the device's next synchronisation. {@link #crossEntropyLoss} and {@link #crossEntropyLossGrad}
 * read the labels on the host (to count rows), and {@link #sumOfSquares}, {@link #allFinite} and the
 * NF4 kernels (computed on the host: aclnn has no NF4 operator) synchronise the stream.
 */
public final class AscendOps implements Ops {
    /** {@code preTokens}/{@code nextTokens} that do not restrict attention beyond the mask. */
    static final long NO_BAND_LIMIT = 2147483647L;
    /** What masked attention scores get before the softmax (finite, so a fully masked row cannot yield NaN). */
    static final float MASKED_SCORE = -1e30f;

    private final AscendBackend backend;
    private final NpuStream stream;
    private final Soc soc;
    private final AclnnApi aclnn;
    private final AclApi acl;
    private final boolean halfMatmuls;

    AscendOps(AscendBackend backend, NpuStream stream, Soc soc) {
        this(backend, stream, soc, false);
    }

    /** With {@code halfMatmuls}, FP32 matmul operands are computed in FP16 on every SoC (see {@link HalfPrecisionOps}). */
    AscendOps(AscendBackend backend, NpuStream stream, Soc soc, boolean halfMatmuls) {
        this.backend = backend;
        this.stream = stream;
        this.soc = soc;
        this.aclnn = backend.aclnn();
        this.acl = backend.acl();
        this.halfMatmuls = halfMatmuls;
    }

    @Override
    public Stream stream() {
        return stream;
    }

    /** The SoC profile that chose the operators. */
    public Soc soc() {
        return soc;
    }

    /**
     * The relative error (largest error over the largest reference magnitude) that {@code kernel}
     * is expected to stay within on FP32 data, against a double-precision reference: what
     * {@code ascendj selftest --backend ascend} checks.
     */
    public double relativeErrorBound(String kernel) {
        if (!soc.fusedOps() && kernel.startsWith("flashAttentionScore")) {
            // The composed attention rounds to FP16 (unit roundoff u = 2^-11) the scores and the
            // probabilities (forward: 2 roundings feeding the output, plus the output's own), and
            // in the backward also dP, dS and the dQ/dK/dV products: 4u and 8u leave room for the
            // errors adding up across those steps.
            return (kernel.endsWith("Grad") ? 8 : 4) * HALF_UNIT_ROUNDOFF;
        }
        return FP32_KERNEL_TOLERANCE;
    }

    /** FP16's unit roundoff, 2^-11. */
    static final double HALF_UNIT_ROUNDOFF = 0x1p-11;
    /** What FP32 kernels are held to (as the CPU backend's selftest). */
    static final double FP32_KERNEL_TOLERANCE = 1e-4;

    private OpContext ctx(String kernel, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.checkAlive();
                if (t.device() != stream.device()) {
                    throw new KernelException(kernel, t.describe() + " is on " + t.device() + ", not on "
                            + stream.device());
                }
                if (t.dtype() == DType.BF16 && !soc.bf16()) {
                    throw new KernelException(kernel, soc.name() + " has no BF16; use FP16 or FP32 (" + t.describe() + ")");
                }
            }
        }
        return new OpContext(aclnn, acl, stream, kernel);
    }

    private static void require(boolean ok, String kernel, String problem) {
        if (!ok) {
            throw new KernelException(kernel, problem);
        }
    }

    private static long[] dims(Tensor t) {
        return Arrays.stream(t.shape().dims()).asLongStream().toArray();
    }

    private static long[] without(long[] d, int last) {
        return Arrays.copyOf(d, d.length - last);
    }

    private static long[] with(long[] d, long... more) {
        long[] r = Arrays.copyOf(d, d.length + more.length);
        System.arraycopy(more, 0, r, d.length, more.length);
        return r;
    }

    private static int acl(DType t) {
        return AclDataTypes.of(t);
    }

    // ------------------------------------------------------------------ elementwise and copies

    @Override
    public void fill(Tensor out, float value) {
        try (OpContext k = ctx("fill", out)) {
            DType sd = out.dtype().isFloatingPoint() ? DType.FP32 : DType.INT64;
            k.run(INPLACE_FILL_SCALAR, k.t(out), k.scalar(value, sd));
        }
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        require(src.shape().equals(dst.shape()), "cast", KernelException.describe(new String[] {"src", "dst"}, src, dst)
                + ": shapes differ");
        try (OpContext k = ctx("cast", src, dst)) {
            k.run(CAST, k.t(src), acl(dst.dtype()), k.t(dst));
        }
    }

    private static void requireSuffixBroadcast(String kernel, Tensor a, Tensor b, Tensor out) {
        int[] ad = a.shape().dims();
        int[] bd = b.shape().dims();
        boolean suffix = bd.length <= ad.length
                && Arrays.equals(bd, Arrays.copyOfRange(ad, ad.length - bd.length, ad.length));
        require(suffix && out.shape().equals(a.shape()), kernel,
                KernelException.describe(new String[] {"a", "b", "out"}, a, b, out)
                        + ": b must equal a suffix of a's shape and out must have a's shape");
    }

    @Override
    public void add(Tensor a, Tensor b, float alpha, Tensor out) {
        requireSuffixBroadcast("add", a, b, out);
        try (OpContext k = ctx("add", a, b, out)) {
            k.run(ADD, k.t(a), k.t(b), k.scalar(alpha), k.t(out));
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        requireSuffixBroadcast("mul", a, b, out);
        try (OpContext k = ctx("mul", a, b, out)) {
            k.run(MUL, k.t(a), k.t(b), k.t(out));
        }
    }

    @Override
    public void muls(Tensor a, float s, Tensor out) {
        require(a.shape().equals(out.shape()), "muls", KernelException.describe(new String[] {"a", "out"}, a, out)
                + ": shapes differ");
        try (OpContext k = ctx("muls", a, out)) {
            k.run(MULS, k.t(a), k.scalar(s), k.t(out));
        }
    }

    // ------------------------------------------------------------------ matmul

    /**
     * {@code cubeMathType} (aclnnMatmul page): on the 910A FP32 inputs may only run in FP16
     * (1, ALLOW_FP32_DOWN_PRECISION); elsewhere the dtype is kept (0, KEEP_DTYPE), or, for FP16
     * compute, FP32 inputs run in FP16 (2, USE_FP16).
     */
    private byte cubeMathType() {
        if (!(soc.fusedOps() || soc.bf16())) {
            return 1;
        }
        return halfMatmuls ? (byte) 2 : (byte) 0;
    }

    /**
     * Rounds every element of an FP32 tensor to the nearest FP16 value in place (overflow gives
     * infinity, as FP16 arithmetic does): a Cast to FP16 and back. Other dtypes are left alone.
     */
    void roundThroughHalf(Tensor t) {
        if (t == null || t.dtype() != DType.FP32 || t.numel() == 0) {
            return;
        }
        try (OpContext k = ctx("roundThroughHalf", t)) {
            TensorRef r = TensorRef.of(t);
            TensorRef h = k.temp(DType.FP16, r.dims());
            k.run(CAST, k.t(r), acl(DType.FP16), k.t(h));
            k.run(CAST, k.t(h), acl(DType.FP32), k.t(r));
        }
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, float alpha, float beta) {
        String names = KernelException.describe(new String[] {"a", "b", "out"}, a, b, out);
        require(a.rank() >= 2 && b.rank() >= 2, "matmul", names + ": operands must have rank 2 or more");
        require(b.rank() == 2 || b.rank() == a.rank(), "matmul", names + ": b must be 2D or have a's rank");
        require(!(transA && b.rank() == 2 && a.rank() > 2), "matmul", names + ": a shared-weight product takes a untransposed");
        int m = transA ? a.dim(-1) : a.dim(-2);
        int ka = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2);
        int n = transB ? b.dim(-2) : b.dim(-1);
        require(ka == kb, "matmul", names + ": inner dimensions " + ka + " and " + kb + " differ");
        int[] expect = out.shape().dims().clone();
        require(out.rank() == a.rank() && expect[expect.length - 2] == m && expect[expect.length - 1] == n
                && Arrays.equals(Arrays.copyOf(a.shape().dims(), a.rank() - 2), Arrays.copyOf(expect, expect.length - 2))
                && (b.rank() == 2 || Arrays.equals(Arrays.copyOf(b.shape().dims(), b.rank() - 2),
                        Arrays.copyOf(expect, expect.length - 2))),
                "matmul", names + ": out must be [..., " + m + ", " + n + "]");
        try (OpContext k = ctx("matmul", a, b, out)) {
            TensorRef av = transA ? TensorRef.of(a).transposeLast() : TensorRef.of(a);
            TensorRef bv = transB ? TensorRef.of(b).transposeLast() : TensorRef.of(b);
            TensorRef o = TensorRef.of(out);
            if (alpha == 1f && beta == 0f) {
                k.run(MATMUL, k.t(av), k.t(bv), k.t(o), cubeMathType());
                return;
            }
            TensorRef prod = k.temp(out.dtype(), o.dims());
            k.run(MATMUL, k.t(av), k.t(bv), k.t(prod), cubeMathType());
            if (beta == 0f) {
                k.run(MULS, k.t(prod), k.scalar(alpha), k.t(o));
            } else if (beta == 1f) {
                k.run(INPLACE_ADD, k.t(o), k.t(prod), k.scalar(alpha));
            } else {
                TensorRef scaled = k.temp(out.dtype(), o.dims());
                k.run(MULS, k.t(o), k.scalar(beta), k.t(scaled));
                k.run(ADD, k.t(scaled), k.t(prod), k.scalar(alpha), k.t(o));
            }
        }
    }

    // ------------------------------------------------------------------ RMSNorm

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        String names = KernelException.describe(new String[] {"x", "weight", "out", "rstd"}, x, weight, out, rstd);
        require(x.rank() >= 1 && weight.rank() == 1 && weight.dim(0) == x.dim(-1) && out.shape().equals(x.shape()),
                "rmsNorm", names + ": expected x [..., H], weight [H], out like x");
        long[] rows = without(dims(x), 1);
        require(rstd == null || (rstd.dtype() == DType.FP32 && Arrays.equals(dims(rstd), rows)), "rmsNorm",
                names + ": rstd must be FP32 " + Arrays.toString(rows));
        try (OpContext k = ctx("rmsNorm", x, weight, out, rstd)) {
            TensorRef r = rstd != null ? TensorRef.of(rstd).unsqueezeLast() : k.temp(DType.FP32, with(rows, 1));
            if (soc.fusedOps()) {
                k.run(RMS_NORM, k.t(x), k.t(weight), (double) eps, k.t(out), k.t(r));
                return;
            }
            long[] xd = dims(x);
            TensorRef sq = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(x), k.t(x), k.t(sq));
            TensorRef ms = k.temp(DType.FP32, with(rows, 1));
            k.run(MEAN, k.t(sq), k.ints(-1), true, acl(DType.FP32), k.t(ms));
            TensorRef msEps = k.temp(DType.FP32, with(rows, 1));
            k.run(ADDS, k.t(ms), k.scalar(eps), k.scalar(1), k.t(msEps));
            k.run(RSQRT, k.t(msEps), k.t(r));
            TensorRef normed = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(x), k.t(r), k.t(normed));
            k.run(MUL, k.t(normed), k.t(weight), k.t(out));
        }
    }

    @Override
    public void rmsNormGrad(Tensor dy, Tensor x, Tensor weight, Tensor rstd, Tensor dx, Tensor dWeight) {
        String names = KernelException.describe(new String[] {"dy", "x", "weight", "rstd", "dx", "dWeight"},
                dy, x, weight, rstd, dx, dWeight);
        long[] xd = dims(x);
        long[] rows = without(xd, 1);
        require(dy.shape().equals(x.shape()) && dx.shape().equals(x.shape()) && weight.rank() == 1
                && weight.dim(0) == x.dim(-1) && rstd != null && Arrays.equals(dims(rstd), rows)
                && (dWeight == null || dWeight.shape().equals(weight.shape())), "rmsNormGrad",
                names + ": expected dy, x, dx [..., H], weight and dWeight [H], rstd " + Arrays.toString(rows));
        try (OpContext k = ctx("rmsNormGrad", dy, x, weight, rstd, dx, dWeight)) {
            TensorRef r = TensorRef.of(rstd).unsqueezeLast();
            if (soc.fusedOps()) {
                TensorRef dg = dWeight != null && dWeight.dtype() == DType.FP32 ? TensorRef.of(dWeight)
                        : k.temp(DType.FP32, dims(weight));
                k.run(RMS_NORM_GRAD, k.t(dy), k.t(x), k.t(r), k.t(weight), k.t(dx), k.t(dg));
                if (dWeight != null && dWeight.dtype() != DType.FP32) {
                    k.run(CAST, k.t(dg), acl(dWeight.dtype()), k.t(dWeight));
                }
                return;
            }
            // dx = r * (dy*w) - x * r^3 * mean(dy*w*x);  dW = sum over rows of dy * x * r
            TensorRef g = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(dy), k.t(weight), k.t(g));
            TensorRef gx = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(g), k.t(x), k.t(gx));
            TensorRef m = k.temp(DType.FP32, with(rows, 1));
            k.run(MEAN, k.t(gx), k.ints(-1), true, acl(DType.FP32), k.t(m));
            TensorRef r2 = k.temp(DType.FP32, with(rows, 1));
            k.run(MUL, k.t(r), k.t(r), k.t(r2));
            TensorRef r3 = k.temp(DType.FP32, with(rows, 1));
            k.run(MUL, k.t(r2), k.t(r), k.t(r3));
            TensorRef c = k.temp(DType.FP32, with(rows, 1));
            k.run(MUL, k.t(m), k.t(r3), k.t(c));
            TensorRef xc = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(x), k.t(c), k.t(xc));
            TensorRef gr = k.temp(DType.FP32, xd);
            k.run(MUL, k.t(g), k.t(r), k.t(gr));
            k.run(ADD, k.t(gr), k.t(xc), k.scalar(-1), k.t(dx));
            if (dWeight != null) {
                TensorRef xr = k.temp(DType.FP32, xd);
                k.run(MUL, k.t(x), k.t(r), k.t(xr));
                TensorRef prod = k.temp(DType.FP32, xd);
                k.run(MUL, k.t(dy), k.t(xr), k.t(prod));
                long[] rowAxes = new long[rows.length];
                for (int i = 0; i < rowAxes.length; i++) {
                    rowAxes[i] = i;
                }
                k.run(REDUCE_SUM, k.t(prod), k.ints(rowAxes), false, acl(dWeight.dtype()), k.t(dWeight));
            }
        }
    }

    // ------------------------------------------------------------------ rotary embedding

    /**
     * cos and sin of the rotary angles, computed on the device: positions (cast to FP32) times the
     * inverse frequencies divided by {@code scale}. {@code full} gives [..., D] tables (each half
     * repeated, as aclnnRotaryPositionEmbedding's "half" mode takes them), otherwise [..., D/2].
     * The result is shaped to broadcast over [B, S, H, *]: [1, S, 1, *] or [B, S, 1, *].
     */
    private TensorRef[] ropeTables(OpContext k, String kernel, Tensor x, Tensor positions, float theta, float scale,
                                   boolean full, DType dtype) {
        int d = x.dim(-1);
        int b = x.dim(0);
        int s = x.dim(1);
        boolean perBatch = positions.rank() == 2;
        require(d % 2 == 0 && positions.dtype().isIndex()
                && (positions.rank() == 1 ? positions.dim(0) == s : perBatch && positions.dim(0) == b && positions.dim(1) == s),
                kernel, KernelException.describe(new String[] {"x", "positions"}, x, positions)
                        + ": expected x [B, S, H, D] with even D and positions [S] or [B, S] (INT32/INT64)");
        int half = d / 2;
        int width = full ? d : half;
        String key = "rope-inv-freq:" + d + ":" + theta + ":" + scale + ":" + width;
        TensorRef invFreq = stream.device().constant(key, DType.FP32, new long[] {width}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(width * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < width; i++) {
                int j = i % half;
                bb.putFloat(i * 4, (float) (Math.pow(theta, -2.0 * j / d) / scale));
            }
            return bb;
        });
        long[] pd = dims(positions);
        TensorRef p32 = k.temp(DType.FP32, pd);
        k.run(CAST, k.t(positions), acl(DType.FP32), k.t(p32));
        long[] ad = with(pd, width);
        TensorRef angles = k.temp(DType.FP32, ad);
        k.run(MUL, k.t(p32.unsqueezeLast()), k.t(invFreq), k.t(angles));
        TensorRef cos = k.temp(DType.FP32, ad);
        TensorRef sin = k.temp(DType.FP32, ad);
        k.run(COS, k.t(angles), k.t(cos));
        k.run(SIN, k.t(angles), k.t(sin));
        if (dtype != DType.FP32) {
            TensorRef c2 = k.temp(dtype, ad);
            TensorRef s2 = k.temp(dtype, ad);
            k.run(CAST, k.t(cos), acl(dtype), k.t(c2));
            k.run(CAST, k.t(sin), acl(dtype), k.t(s2));
            cos = c2;
            sin = s2;
        }
        long[] bd = {perBatch ? b : 1, s, 1, width};
        long[] bs = {perBatch ? (long) s * width : (long) s * width, width, width, 1};
        return new TensorRef[] {cos.view(bd, bs, 0), sin.view(bd, bs, 0)};
    }

    @Override
    public void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        require(x.rank() == 4 && out.shape().equals(x.shape()), "rotaryPositionEmbedding",
                KernelException.describe(new String[] {"x", "out"}, x, out) + ": expected x and out [B, S, H, D]");
        try (OpContext k = ctx("rotaryPositionEmbedding", x, positions, out)) {
            rotate(k, "rotaryPositionEmbedding", x, positions, theta, scale, out, false);
        }
    }

    @Override
    public void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        require(dy.rank() == 4 && dx.shape().equals(dy.shape()), "rotaryPositionEmbeddingGrad",
                KernelException.describe(new String[] {"dy", "dx"}, dy, dx) + ": expected dy and dx [B, S, H, D]");
        try (OpContext k = ctx("rotaryPositionEmbeddingGrad", dy, positions, dx)) {
            rotate(k, "rotaryPositionEmbeddingGrad", dy, positions, theta, scale, dx, true);
        }
    }

    /** out = R x (forward) or R^T x (backward), where R rotates each (x_i, x_{i+D/2}) pair. */
    private void rotate(OpContext k, String kernel, Tensor x, Tensor positions, float theta, float scale, Tensor out,
                        boolean transpose) {
        TensorRef xr = TensorRef.of(x);
        TensorRef or = TensorRef.of(out);
        if (soc.fusedOps()) {
            TensorRef[] cs = ropeTables(k, kernel, x, positions, theta, scale, true, x.dtype());
            // The fused operators write their output while reading x; an aliased output goes through a temporary.
            TensorRef target = or.sharesStorage(xr) ? k.temp(out.dtype(), or.dims()) : or;
            if (transpose) {
                // Without xOptional no cos/sin gradient is computed, but dcosOut and dsinOut must still be
                // tensors: empty ones, as the operator page's example passes them.
                k.run(ROTARY_POSITION_EMBEDDING_GRAD, k.t(xr), k.t(cs[0]), k.t(cs[1]), null, 0L, k.t(target),
                        k.empty(x.dtype(), 1, 1, 1, 0), k.empty(x.dtype(), 1, 1, 1, 0));
            } else {
                k.run(ROTARY_POSITION_EMBEDDING, k.t(xr), k.t(cs[0]), k.t(cs[1]), 0L, k.t(target));
            }
            if (target != or) {
                k.run(INPLACE_COPY, k.t(or), k.t(target));
            }
            return;
        }
        TensorRef[] cs = ropeTables(k, kernel, x, positions, theta, scale, false, DType.FP32);
        long half = x.dim(-1) / 2;
        TensorRef x1 = xr.slice(-1, 0, half);
        TensorRef x2 = xr.slice(-1, half, half);
        long[] hd = x1.dims();
        // Every product is computed before out is written, so out may be x.
        TensorRef x1c = k.temp(DType.FP32, hd);
        TensorRef x2s = k.temp(DType.FP32, hd);
        TensorRef x2c = k.temp(DType.FP32, hd);
        TensorRef x1s = k.temp(DType.FP32, hd);
        k.run(MUL, k.t(x1), k.t(cs[0]), k.t(x1c));
        k.run(MUL, k.t(x2), k.t(cs[1]), k.t(x2s));
        k.run(MUL, k.t(x2), k.t(cs[0]), k.t(x2c));
        k.run(MUL, k.t(x1), k.t(cs[1]), k.t(x1s));
        float sign = transpose ? 1f : -1f;
        // forward: out1 = x1 cos - x2 sin, out2 = x2 cos + x1 sin; backward: the signs of the sin terms flip
        k.run(ADD, k.t(x1c), k.t(x2s), k.scalar(sign), k.t(or.slice(-1, 0, half)));
        k.run(ADD, k.t(x2c), k.t(x1s), k.scalar(-sign), k.t(or.slice(-1, half, half)));
    }

    // ------------------------------------------------------------------ attention

    private void checkAttention(String kernel, Tensor q, Tensor k, Tensor v, Tensor out) {
        String names = KernelException.describe(new String[] {"q", "k", "v", "out"}, q, k, v, out);
        require(q.rank() == 4 && k.rank() == 4 && v.shape().equals(k.shape()) && out.shape().equals(q.shape())
                && k.dim(0) == q.dim(0) && k.dim(3) == q.dim(3) && k.dim(2) > 0 && q.dim(2) % k.dim(2) == 0,
                kernel, names + ": expected q, out [B, Sq, H, D] and k, v [B, Sk, G, D] with H divisible by G");
    }

    /** The causal mask as the fused operator takes it: UINT8 [Sq, Sk], 1 where query i may not see key j. */
    private TensorRef causalMaskBool(int sq, int sk) {
        return stream.device().constant("causal-u8:" + sq + ":" + sk, DType.UINT8, new long[] {sq, sk}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(sq * sk);
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    bb.put(i * sk + j, (byte) (j > i + sk - sq ? 1 : 0));
                }
            }
            return bb;
        });
    }

    /** The causal mask as an additive FP32 [Sq, Sk] term for the composed softmax. */
    private TensorRef causalMaskAdd(int sq, int sk) {
        return stream.device().constant("causal-add:" + sq + ":" + sk, DType.FP32, new long[] {sq, sk}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(sq * sk * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    bb.putFloat((i * sk + j) * 4, j > i + sk - sq ? MASKED_SCORE : 0f);
                }
            }
            return bb;
        });
    }

    /** Batch element {@code b} of a [B, S, N, D] tensor as [1, G, r, S, D] (head n = g * r + j). */
    private static TensorRef heads(TensorRef t, int b, long groups, long r) {
        long[] st = t.strides();
        long[] d = {1, groups, r, t.dim(1), t.dim(3)};
        long[] s = {st[0], r * st[2], st[2], st[1], st[3]};
        return t.view(d, s, t.offset() + b * st[0]);
    }

    @Override
    public void flashAttentionScore(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor lse) {
        checkAttention("flashAttentionScore", q, k, v, out);
        int bsz = q.dim(0);
        int sq = q.dim(1);
        int h = q.dim(2);
        int sk = k.dim(1);
        int g = k.dim(2);
        require(lse == null || (lse.dtype() == DType.FP32 && Arrays.equals(lse.shape().dims(), new int[] {bsz, h, sq})),
                "flashAttentionScore", "lse must be FP32 [" + bsz + ", " + h + ", " + sq + "], got " + (lse == null ? null : lse.describe()));
        try (OpContext c = ctx("flashAttentionScore", q, k, v, out, lse)) {
            if (soc.fusedOps()) {
                TensorRef smax = c.temp(DType.FP32, bsz, h, sq, 8);
                TensorRef ssum = c.temp(DType.FP32, bsz, h, sq, 8);
                TensorRef sout = c.temp(q.dtype(), 1);
                c.run(FLASH_ATTENTION_SCORE, c.t(q), c.t(k), c.t(v), null, null, null,
                        causal ? c.t(causalMaskBool(sq, sk)) : null, null, (double) scale, 1.0, NO_BAND_LIMIT,
                        NO_BAND_LIMIT, (long) h, "BSND", 0L, 0L, c.t(smax), c.t(ssum), c.t(sout), c.t(out));
                if (lse != null) {
                    // lse = max + log(sum), from column 0 of the operator's [B, H, Sq, 8] statistics
                    long[] d3 = {bsz, h, sq};
                    long[] s3 = {(long) h * sq * 8, (long) sq * 8, 8};
                    TensorRef logSum = c.temp(DType.FP32, d3);
                    c.run(LOG, c.t(ssum.view(d3, s3, 0)), c.t(logSum));
                    c.run(ADD, c.t(smax.view(d3, s3, 0)), c.t(logSum), c.scalar(1), c.t(lse));
                }
                return;
            }
            long r = h / g;
            TensorRef qr = TensorRef.of(q);
            TensorRef kr = TensorRef.of(k);
            TensorRef vr = TensorRef.of(v);
            TensorRef or = TensorRef.of(out);
            for (int b = 0; b < bsz; b++) {
                TensorRef qh = c.temp(DType.FP16, 1, g, r, sq, q.dim(3));
                c.run(CAST, c.t(heads(qr, b, g, r)), acl(DType.FP16), c.t(qh));
                TensorRef kh = c.temp(DType.FP16, 1, g, 1, sk, k.dim(3));
                c.run(CAST, c.t(heads(kr, b, g, 1)), acl(DType.FP16), c.t(kh));
                TensorRef vh = c.temp(DType.FP16, 1, g, 1, sk, v.dim(3));
                c.run(CAST, c.t(heads(vr, b, g, 1)), acl(DType.FP16), c.t(vh));
                TensorRef scores = scores(c, qh, kh, scale, causal, g, r, sq, sk);
                TensorRef p = c.temp(DType.FP32, 1, g, r, sq, sk);
                c.run(SOFTMAX, c.t(scores), -1L, c.t(p));
                if (lse != null) {
                    // lse = s[., 0] - logsoftmax(s)[., 0]: column 0 is never masked when Sk >= Sq
                    TensorRef logp = c.temp(DType.FP32, 1, g, r, sq, sk);
                    c.run(LOG_SOFTMAX, c.t(scores), -1L, c.t(logp));
                    long[] d4 = {1, g, r, sq};
                    long[] s4 = {(long) g * r * sq * sk, r * sq * sk, (long) sq * sk, sk};
                    TensorRef lr = TensorRef.of(lse);
                    TensorRef lseB = lr.view(d4, new long[] {lr.stride(0), r * lr.stride(1), lr.stride(1), lr.stride(2)},
                            lr.offset() + b * lr.stride(0));
                    c.run(ADD, c.t(scores.view(d4, s4, 0)), c.t(logp.view(d4, s4, 0)), c.scalar(-1), c.t(lseB));
                }
                TensorRef ph = c.temp(DType.FP16, 1, g, r, sq, sk);
                c.run(CAST, c.t(p), acl(DType.FP16), c.t(ph));
                TensorRef oh = c.temp(DType.FP16, 1, g, r, sq, v.dim(3));
                c.run(MATMUL, c.t(ph), c.t(vh), c.t(oh), (byte) 0);
                c.run(CAST, c.t(oh), acl(out.dtype()), c.t(heads(or, b, g, r)));
            }
        }
    }

    /** scale * q k^T (FP16 product, FP32 result) plus the causal mask, [1, G, r, Sq, Sk]. */
    private TensorRef scores(OpContext c, TensorRef qh, TensorRef kh, float scale, boolean causal, long g, long r,
                             int sq, int sk) {
        TensorRef s16 = c.temp(DType.FP16, 1, g, r, sq, sk);
        c.run(MATMUL, c.t(qh), c.t(kh.transposeLast()), c.t(s16), (byte) 0);
        TensorRef s = c.temp(DType.FP32, 1, g, r, sq, sk);
        c.run(MULS, c.t(s16), c.scalar(scale), c.t(s));
        if (!causal) {
            return s;
        }
        TensorRef masked = c.temp(DType.FP32, 1, g, r, sq, sk);
        c.run(ADD, c.t(s), c.t(causalMaskAdd(sq, sk)), c.scalar(1), c.t(masked));
        return masked;
    }

    @Override
    public void flashAttentionScoreGrad(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, float scale,
                                        boolean causal, Tensor dq, Tensor dk, Tensor dv) {
        checkAttention("flashAttentionScoreGrad", q, k, v, out);
        int bsz = q.dim(0);
        int sq = q.dim(1);
        int h = q.dim(2);
        int sk = k.dim(1);
        int g = k.dim(2);
        require(dOut.shape().equals(q.shape()) && dq.shape().equals(q.shape()) && dk.shape().equals(k.shape())
                && dv.shape().equals(v.shape()) && lse != null && lse.dtype() == DType.FP32
                && Arrays.equals(lse.shape().dims(), new int[] {bsz, h, sq}), "flashAttentionScoreGrad",
                KernelException.describe(new String[] {"dOut", "lse", "dq", "dk", "dv"}, dOut, lse, dq, dk, dv)
                        + ": dOut, dq like q; dk, dv like k; lse FP32 [B, H, Sq]");
        try (OpContext c = ctx("flashAttentionScoreGrad", dOut, q, k, v, out, lse, dq, dk, dv)) {
            if (soc.fusedOps()) {
                // With max = lse and sum = 1 the operator recomputes exactly softmax = exp(s - lse).
                long[] d4 = {bsz, h, sq, 8};
                TensorRef lr = TensorRef.of(lse);
                TensorRef smax = c.temp(DType.FP32, d4);
                c.run(CAST, c.t(lr.view(d4, new long[] {lr.stride(0), lr.stride(1), lr.stride(2), 0}, lr.offset())),
                        acl(DType.FP32), c.t(smax));
                TensorRef ssum = c.temp(DType.FP32, d4);
                c.run(INPLACE_FILL_SCALAR, c.t(ssum), c.scalar(1));
                c.run(FLASH_ATTENTION_SCORE_GRAD, c.t(q), c.t(k), c.t(v), c.t(dOut), null, null, null,
                        causal ? c.t(causalMaskBool(sq, sk)) : null, c.t(smax), c.t(ssum), null, c.t(out), null,
                        (double) scale, 1.0, NO_BAND_LIMIT, NO_BAND_LIMIT, (long) h, "BSND", 0L, 0L, c.t(dq), c.t(dk),
                        c.t(dv), null);
                return;
            }
            long r = h / g;
            int d = q.dim(3);
            TensorRef qr = TensorRef.of(q);
            TensorRef kr = TensorRef.of(k);
            TensorRef vr = TensorRef.of(v);
            TensorRef or = TensorRef.of(out);
            TensorRef dor = TensorRef.of(dOut);
            TensorRef lr = TensorRef.of(lse);
            for (int b = 0; b < bsz; b++) {
                TensorRef qh = c.temp(DType.FP16, 1, g, r, sq, d);
                c.run(CAST, c.t(heads(qr, b, g, r)), acl(DType.FP16), c.t(qh));
                TensorRef kh = c.temp(DType.FP16, 1, g, 1, sk, d);
                c.run(CAST, c.t(heads(kr, b, g, 1)), acl(DType.FP16), c.t(kh));
                TensorRef vh = c.temp(DType.FP16, 1, g, 1, sk, d);
                c.run(CAST, c.t(heads(vr, b, g, 1)), acl(DType.FP16), c.t(vh));
                TensorRef doh = c.temp(DType.FP16, 1, g, r, sq, d);
                c.run(CAST, c.t(heads(dor, b, g, r)), acl(DType.FP16), c.t(doh));
                // P = exp(s - lse)
                TensorRef s = scores(c, qh, kh, scale, causal, g, r, sq, sk);
                TensorRef lseB = lr.view(new long[] {1, g, r, sq, 1},
                        new long[] {lr.stride(0), r * lr.stride(1), lr.stride(1), lr.stride(2), 1}, lr.offset() + b * lr.stride(0));
                TensorRef shifted = c.temp(DType.FP32, 1, g, r, sq, sk);
                c.run(ADD, c.t(s), c.t(lseB), c.scalar(-1), c.t(shifted));
                TensorRef p = c.temp(DType.FP32, 1, g, r, sq, sk);
                c.run(EXP, c.t(shifted), c.t(p));
                TensorRef ph = c.temp(DType.FP16, 1, g, r, sq, sk);
                c.run(CAST, c.t(p), acl(DType.FP16), c.t(ph));
                // dV = sum over the group's heads of P^T dO: rows (j, i) merged into one axis of r * Sq
                TensorRef dvh = c.temp(DType.FP16, 1, g, sk, d);
                c.run(MATMUL, c.t(ph.reshape(1, g, r * sq, sk).transposeLast()), c.t(doh.reshape(1, g, r * sq, d)),
                        c.t(dvh), (byte) 0);
                c.run(CAST, c.t(dvh.reshape(1, g, 1, sk, d)), acl(dv.dtype()), c.t(heads(TensorRef.of(dv), b, g, 1)));
                // dP = dO V^T; dS = P * (dP - rowsum(dO * O)) * scale
                TensorRef dp16 = c.temp(DType.FP16, 1, g, r, sq, sk);
                c.run(MATMUL, c.t(doh), c.t(vh.transposeLast()), c.t(dp16), (byte) 0);
                TensorRef dpo = c.temp(DType.FP32, 1, g, r, sq, d);
                c.run(MUL, c.t(heads(dor, b, g, r)), c.t(heads(or, b, g, r)), c.t(dpo));
                TensorRef rowDot = c.temp(DType.FP32, 1, g, r, sq, 1);
                c.run(REDUCE_SUM, c.t(dpo), c.ints(-1), true, acl(DType.FP32), c.t(rowDot));
                TensorRef centered = c.temp(DType.FP32, 1, g, r, sq, sk);
                c.run(ADD, c.t(dp16), c.t(rowDot), c.scalar(-1), c.t(centered));
                TensorRef ds = c.temp(DType.FP32, 1, g, r, sq, sk);
                c.run(MUL, c.t(p), c.t(centered), c.t(ds));
                TensorRef dsh = c.temp(DType.FP16, 1, g, r, sq, sk);
                c.run(MULS, c.t(ds), c.scalar(scale), c.t(dsh));
                // dQ = dS K; dK = sum over the group's heads of dS^T Q
                TensorRef dqh = c.temp(DType.FP16, 1, g, r, sq, d);
                c.run(MATMUL, c.t(dsh), c.t(kh), c.t(dqh), (byte) 0);
                c.run(CAST, c.t(dqh), acl(dq.dtype()), c.t(heads(TensorRef.of(dq), b, g, r)));
                TensorRef dkh = c.temp(DType.FP16, 1, g, sk, d);
                c.run(MATMUL, c.t(dsh.reshape(1, g, r * sq, sk).transposeLast()), c.t(qh.reshape(1, g, r * sq, d)),
                        c.t(dkh), (byte) 0);
                c.run(CAST, c.t(dkh.reshape(1, g, 1, sk, d)), acl(dk.dtype()), c.t(heads(TensorRef.of(dk), b, g, 1)));
            }
        }
    }

    // ------------------------------------------------------------------ SwiGLU

    /** gate and up as one [..., 2I] view when they are the two halves of one buffer, else null. */
    private static TensorRef fusedHalves(Tensor gate, Tensor up) {
        TensorRef a = TensorRef.of(gate);
        TensorRef b = TensorRef.of(up);
        if (a.base() != b.base() || a.dtype() != b.dtype() || !Arrays.equals(a.dims(), b.dims())
                || !Arrays.equals(a.strides(), b.strides()) || a.stride(-1) != 1
                || b.offset() != a.offset() + a.dim(-1)) {
            return null;
        }
        long[] d = a.dims().clone();
        d[d.length - 1] *= 2;
        for (int i = 0; i < d.length - 1; i++) {
            if (d[i] > 1 && a.strides()[i] < d[d.length - 1]) {
                return null; // rows overlap: not a [..., 2I] layout
            }
        }
        return a.view(d, a.strides(), a.offset());
    }

    @Override
    public void swiGlu(Tensor gate, Tensor up, Tensor out) {
        require(gate.shape().equals(up.shape()) && out.shape().equals(gate.shape()), "swiGlu",
                KernelException.describe(new String[] {"gate", "up", "out"}, gate, up, out) + ": shapes differ");
        try (OpContext k = ctx("swiGlu", gate, up, out)) {
            TensorRef x = soc.fusedOps() ? fusedHalves(gate, up) : null;
            if (x != null) {
                k.run(SWI_GLU, k.t(x), -1L, k.t(out));
                return;
            }
            TensorRef s = k.temp(DType.FP32, dims(gate));
            k.run(SILU, k.t(gate), k.t(s));
            k.run(MUL, k.t(s), k.t(up), k.t(out));
        }
    }

    @Override
    public void swiGluGrad(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
        require(gate.shape().equals(up.shape()) && dOut.shape().equals(gate.shape()) && dGate.shape().equals(gate.shape())
                && dUp.shape().equals(gate.shape()), "swiGluGrad", KernelException.describe(
                        new String[] {"dOut", "gate", "up", "dGate", "dUp"}, dOut, gate, up, dGate, dUp) + ": shapes differ");
        try (OpContext k = ctx("swiGluGrad", dOut, gate, up, dGate, dUp)) {
            TensorRef x = soc.fusedOps() ? fusedHalves(gate, up) : null;
            TensorRef dx = x != null ? fusedHalves(dGate, dUp) : null;
            if (x != null && dx != null) {
                k.run(SWI_GLU_GRAD, k.t(dOut), k.t(x), -1L, k.t(dx));
                return;
            }
            // dUp = dOut * silu(gate); dGate = silu'(gate) * (dOut * up)
            TensorRef s = k.temp(DType.FP32, dims(gate));
            k.run(SILU, k.t(gate), k.t(s));
            TensorRef gu = k.temp(DType.FP32, dims(gate));
            k.run(MUL, k.t(dOut), k.t(up), k.t(gu));
            k.run(MUL, k.t(dOut), k.t(s), k.t(dUp));
            k.run(SILU_BACKWARD, k.t(gu), k.t(gate), k.t(dGate));
        }
    }

    // ------------------------------------------------------------------ embedding

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        require(weight.rank() == 2 && ids.dtype().isIndex()
                && Arrays.equals(dims(out), with(dims(ids), weight.dim(1))),
                "embedding", KernelException.describe(new String[] {"weight", "ids", "out"}, weight, ids, out)
                        + ": expected weight [V, H], ids [...] (INT32/INT64), out [..., H]");
        try (OpContext k = ctx("embedding", weight, ids, out)) {
            k.run(EMBEDDING, k.t(weight), k.t(ids), k.t(out));
        }
    }

    @Override
    public void embeddingDenseBackward(Tensor dOut, Tensor ids, Tensor dWeight) {
        require(dWeight.rank() == 2 && ids.dtype().isIndex()
                && Arrays.equals(dims(dOut), with(dims(ids), dWeight.dim(1))),
                "embeddingDenseBackward", KernelException.describe(new String[] {"dOut", "ids", "dWeight"}, dOut, ids,
                        dWeight) + ": expected dOut [..., H], ids [...], dWeight [V, H]");
        try (OpContext k = ctx("embeddingDenseBackward", dOut, ids, dWeight)) {
            // paddingIdx -1 (all ones as uint64) never matches an id: no row is excluded
            k.run(EMBEDDING_DENSE_BACKWARD, k.t(dOut), k.t(ids), (long) dWeight.dim(0), -1L, false, k.t(dWeight));
        }
    }

    // ------------------------------------------------------------------ cross-entropy

    private static long reductionCode(Reduction r) {
        return switch (r) {
            case NONE -> 0L;
            case MEAN -> 1L;
            case SUM -> 2L;
        };
    }

    private static String reductionName(Reduction r) {
        return switch (r) {
            case NONE -> "none";
            case MEAN -> "mean";
            case SUM -> "sum";
        };
    }

    /** Rows whose label is not {@code ignoreIndex}, counted on the host after the stream has run. */
    private long countLabels(Tensor labels, int ignoreIndex) {
        stream.synchronize();
        long n = 0;
        for (long l : labels.toLongArray()) {
            if (l != ignoreIndex) {
                n++;
            }
        }
        return n;
    }

    private TensorRef onesVector(int v) {
        return stream.device().constant("ones:" + v, DType.FP32, new long[] {v}, () -> {
            ByteBuffer bb = ByteBuffer.allocateDirect(v * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < v; i++) {
                bb.putFloat(i * 4, 1f);
            }
            return bb;
        });
    }

    @Override
    public long crossEntropyLoss(Tensor logits, Tensor labels, int ignoreIndex, Reduction reduction, Tensor loss, Tensor lse) {
        int n = logits.rank() == 2 ? logits.dim(0) : -1;
        String names = KernelException.describe(new String[] {"logits", "labels", "loss", "lse"}, logits, labels, loss, lse);
        require(n >= 0 && labels.dtype().isIndex() && labels.rank() == 1 && labels.dim(0) == n
                && (reduction == Reduction.NONE ? loss.rank() == 1 && loss.dim(0) == n : loss.numel() == 1)
                && (lse == null || (lse.dtype() == DType.FP32 && lse.rank() == 1 && lse.dim(0) == n)),
                "crossEntropyLoss", names + ": expected logits [N, V], labels [N], loss [N] or one element, lse FP32 [N]");
        int v = logits.dim(1);
        long count = countLabels(labels, ignoreIndex);
        try (OpContext k = ctx("crossEntropyLoss", logits, labels, loss, lse)) {
            TensorRef lossRef = reduction == Reduction.NONE ? TensorRef.of(loss)
                    : TensorRef.of(loss).view(new long[0], new long[0], TensorRef.of(loss).offset());
            TensorRef logp = k.temp(soc.fusedOps() ? logits.dtype() : DType.FP32, n, v);
            if (soc.fusedOps()) {
                // zlossOut and lseForZlossOut take no part in the computation but must be passed (operator page)
                TensorRef zloss = k.temp(logits.dtype(), lossRef.dims());
                TensorRef lseForZloss = k.temp(logits.dtype(), n);
                k.run(CROSS_ENTROPY_LOSS, k.t(logits), k.t(labels), null, reductionName(reduction), (long) ignoreIndex,
                        0.0, 0.0, false, k.t(lossRef), k.t(logp), k.t(zloss), k.t(lseForZloss));
            } else {
                k.run(LOG_SOFTMAX, k.t(logits), 1L, k.t(logp));
                TensorRef totalWeight = k.temp(DType.FP32);
                k.run(NLL_LOSS, k.t(logp), k.t(labels), k.t(onesVector(v)), reductionCode(reduction), (long) ignoreIndex,
                        k.t(lossRef), k.t(totalWeight));
            }
            if (lse != null) {
                // lse = logits[:, 0] - logp[:, 0]
                TensorRef lr = TensorRef.of(logits);
                k.run(ADD, k.t(lr.view(new long[] {n}, new long[] {lr.stride(0)}, lr.offset())),
                        k.t(logp.view(new long[] {n}, new long[] {v}, 0)), k.scalar(-1), k.t(lse));
            }
        }
        return count;
    }

    @Override
    public void crossEntropyLossGrad(Tensor logits, Tensor labels, Tensor lse, int ignoreIndex, Reduction reduction,
                                     float gradScale, Tensor dLogits) {
        int n = logits.rank() == 2 ? logits.dim(0) : -1;
        require(reduction != Reduction.NONE && n >= 0 && labels.rank() == 1 && labels.dim(0) == n
                && labels.dtype().isIndex() && lse != null && lse.dtype() == DType.FP32 && lse.rank() == 1
                && lse.dim(0) == n && dLogits.shape().equals(logits.shape()), "crossEntropyLossGrad",
                KernelException.describe(new String[] {"logits", "labels", "lse", "dLogits"}, logits, labels, lse, dLogits)
                        + ": expected logits, dLogits [N, V], labels [N], lse FP32 [N], reduction MEAN or SUM");
        int v = logits.dim(1);
        long count = countLabels(labels, ignoreIndex);
        if (count == 0) {
            fill(dLogits, 0f); // every row ignored: no gradient (and no division by zero)
            return;
        }
        try (OpContext k = ctx("crossEntropyLossGrad", logits, labels, lse, dLogits)) {
            TensorRef logp = k.temp(soc.fusedOps() ? logits.dtype() : DType.FP32, n, v);
            k.run(ADD, k.t(logits), k.t(TensorRef.of(lse).unsqueezeLast()), k.scalar(-1), k.t(logp));
            if (soc.fusedOps()) {
                // The gradient takes INT64 targets only, and its output has gradLoss's dtype (operator page).
                TensorRef gradLoss = k.temp(dLogits.dtype());
                k.run(INPLACE_FILL_SCALAR, k.t(gradLoss), k.scalar(gradScale));
                TensorRef targets = TensorRef.of(labels);
                if (labels.dtype() != DType.INT64) {
                    targets = k.temp(DType.INT64, n);
                    k.run(CAST, k.t(labels), acl(DType.INT64), k.t(targets));
                }
                k.run(CROSS_ENTROPY_LOSS_GRAD, k.t(gradLoss), k.t(logp), k.t(targets), null, null, null,
                        reductionName(reduction), (long) ignoreIndex, 0.0, 0.0, k.t(dLogits));
                return;
            }
            TensorRef gradOut = k.temp(DType.FP32);
            k.run(INPLACE_FILL_SCALAR, k.t(gradOut), k.scalar(gradScale));
            // d(loss)/d(logp) from the NLL backward, then through the log-softmax
            TensorRef totalWeight = k.temp(DType.FP32);
            k.run(INPLACE_FILL_SCALAR, k.t(totalWeight), k.scalar(count));
            TensorRef dlogp = k.temp(DType.FP32, n, v);
            k.run(NLL_LOSS_BACKWARD, k.t(gradOut), k.t(logp), k.t(labels), k.t(onesVector(v)), reductionCode(reduction),
                    (long) ignoreIndex, k.t(totalWeight), k.t(dlogp));
            k.run(LOG_SOFTMAX_BACKWARD, k.t(dlogp), k.t(logp), 1L, k.t(dLogits));
        }
    }

    // ------------------------------------------------------------------ optimizer and reductions

    @Override
    public void applyAdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                           float weightDecay, long step) {
        require(grad.shape().equals(param.shape()) && m.shape().equals(param.shape()) && v.shape().equals(param.shape())
                && m.dtype() == DType.FP32 && v.dtype() == DType.FP32 && step >= 1, "applyAdamW",
                KernelException.describe(new String[] {"param", "grad", "m", "v"}, param, grad, m, v)
                        + ": one shape for all, FP32 moments, step >= 1 (got " + step + ")");
        try (OpContext k = ctx("applyAdamW", param, grad, m, v)) {
            boolean oneDtype = param.dtype() == grad.dtype() && grad.dtype() == m.dtype();
            if (soc.fusedOps() && oneDtype) {
                TensorRef stepT = k.temp(DType.FP32, 1);
                k.run(INPLACE_FILL_SCALAR, k.t(stepT), k.scalar(step));
                k.run(APPLY_ADAM_W_V2, k.t(param), k.t(m), k.t(v), null, k.t(grad), k.t(stepT), lr, beta1, beta2,
                        weightDecay, eps, false, false);
                return;
            }
            long[] d = dims(param);
            double bc1 = 1 - Math.pow(beta1, step);
            double bc2 = 1 - Math.pow(beta2, step);
            TensorRef t = k.temp(DType.FP32, d);
            // m = b1 m + (1 - b1) g
            k.run(MULS, k.t(m), k.scalar(beta1), k.t(t));
            k.run(ADD, k.t(t), k.t(grad), k.scalar(1 - beta1), k.t(m));
            // v = b2 v + (1 - b2) g^2
            TensorRef g2 = k.temp(DType.FP32, d);
            k.run(MUL, k.t(grad), k.t(grad), k.t(g2));
            k.run(MULS, k.t(v), k.scalar(beta2), k.t(t));
            k.run(ADD, k.t(t), k.t(g2), k.scalar(1 - beta2), k.t(v));
            // update = m / (sqrt(v / bc2) + eps)
            TensorRef denom = k.temp(DType.FP32, d);
            k.run(MULS, k.t(v), k.scalar(1 / bc2), k.t(denom));
            k.run(SQRT, k.t(denom), k.t(t));
            k.run(ADDS, k.t(t), k.scalar(eps), k.scalar(1), k.t(denom));
            TensorRef update = k.temp(DType.FP32, d);
            k.run(DIV, k.t(m), k.t(denom), k.t(update));
            // p = p (1 - lr wd) - lr / bc1 * update
            k.run(MULS, k.t(param), k.scalar(1 - (double) lr * weightDecay), k.t(t));
            k.run(ADD, k.t(t), k.t(update), k.scalar(-lr / bc1), k.t(param));
        }
    }

    @Override
    public void nf4Quantize(Tensor src, Tensor packed, Tensor absmax) {
        long n = src.numel();
        require(src.dtype().isFloatingPoint() && packed.dtype() == DType.NF4 && packed.numel() == n
                && absmax.dtype() == DType.FP32 && absmax.numel() == Nf4.blocks(n), "nf4Quantize",
                KernelException.describe(new String[] {"src", "packed", "absmax"}, src, packed, absmax)
                        + ": expected NF4 packed with src's element count and FP32 absmax of " + Nf4.blocks(n));
        stream.synchronize();
        float[] x = src.toFloatArray();
        float[] scales = new float[(int) Nf4.blocks(n)];
        ByteBuffer bytes = ByteBuffer.allocate((int) DType.NF4.byteSize(n));
        for (int blk = 0; blk < scales.length; blk++) {
            int from = blk * Nf4.BLOCK_SIZE;
            int to = (int) Math.min(n, from + Nf4.BLOCK_SIZE);
            float amax = 0;
            for (int i = from; i < to; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            scales[blk] = amax;
            for (int i = from; i < to; i++) {
                int code = Nf4.nearest(amax == 0 ? 0 : x[i] / amax);
                int b = bytes.get(i / 2) & 0xff;
                b = (i & 1) == 0 ? (b & 0xf0) | code : (b & 0x0f) | (code << 4);
                bytes.put(i / 2, (byte) b);
            }
        }
        packed.copyFromBytes(bytes);
        absmax.copyFrom(scales);
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, Tensor out) {
        long n = out.numel();
        require(packed.dtype() == DType.NF4 && packed.numel() == n && absmax.dtype() == DType.FP32
                && absmax.numel() == Nf4.blocks(n) && out.dtype().isFloatingPoint(), "nf4Dequantize",
                KernelException.describe(new String[] {"packed", "absmax", "out"}, packed, absmax, out)
                        + ": expected NF4 packed and FP32 absmax for out's element count");
        stream.synchronize();
        ByteBuffer bytes = packed.toBytes();
        float[] scales = absmax.toFloatArray();
        float[] y = new float[(int) n];
        for (int i = 0; i < y.length; i++) {
            int b = bytes.get(i / 2) & 0xff;
            int code = (i & 1) == 0 ? b & 0x0f : b >>> 4;
            y[i] = Nf4.value(code) * scales[i / Nf4.BLOCK_SIZE];
        }
        out.copyFrom(y);
    }

    private float reduceAll(OpContext k, TensorRef x) {
        long[] axes = new long[x.rank()];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
        }
        TensorRef total = k.temp(DType.FP32);
        k.run(REDUCE_SUM, k.t(x), k.ints(axes), false, acl(DType.FP32), k.t(total));
        return k.readFloat(total);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        if (x.numel() == 0) {
            return 0;
        }
        try (OpContext k = ctx("sumOfSquares", x)) {
            TensorRef sq = k.temp(DType.FP32, dims(x));
            k.run(MUL, k.t(x), k.t(x), k.t(sq));
            return reduceAll(k, sq);
        }
    }

    @Override
    public boolean allFinite(Tensor x) {
        if (x.numel() == 0) {
            return true;
        }
        try (OpContext k = ctx("allFinite", x)) {
            // x * 0 is 0 for finite x and NaN for an infinity or NaN; the sum is NaN iff one was there.
            TensorRef z = k.temp(DType.FP32, dims(x));
            k.run(MULS, k.t(x), k.scalar(0), k.t(z));
            return !Float.isNaN(reduceAll(k, z));
        }
    }
}
