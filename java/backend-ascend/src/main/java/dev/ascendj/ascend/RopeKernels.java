package dev.ascendj.ascend;

import static dev.ascendj.ascend.KernelContext.acl;
import static dev.ascendj.ascend.KernelContext.dims;
import static dev.ascendj.ascend.KernelContext.require;
import static dev.ascendj.ascend.KernelContext.with;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.COS;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.SIN;

import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;

/**
 * Rotary position embedding in the rotate-half form, forward and backward, on [B, S, H, D]
 * tensors: the argument checks and the cos/sin tables, with the rotation left to the SoC's variant
 * ({@link FusedRopeKernels}, {@link ComposedRopeKernels}).
 */
abstract class RopeKernels {
    private final KernelContext context;

    RopeKernels(KernelContext context) {
        this.context = context;
    }

    final void rotaryPositionEmbedding(Tensor x, Tensor positions, float theta, float scale, Tensor out) {
        require(x.rank() == 4 && out.shape().equals(x.shape()), "rotaryPositionEmbedding",
                KernelException.describe(new String[] {"x", "out"}, x, out) + ": expected x and out [B, S, H, D]");
        try (OpContext k = context.open("rotaryPositionEmbedding", x, positions, out)) {
            rotatePositions(k, "rotaryPositionEmbedding", x, positions, theta, scale, out, false);
        }
    }

    final void rotaryPositionEmbeddingGrad(Tensor dy, Tensor positions, float theta, float scale, Tensor dx) {
        require(dy.rank() == 4 && dx.shape().equals(dy.shape()), "rotaryPositionEmbeddingGrad",
                KernelException.describe(new String[] {"dy", "dx"}, dy, dx) + ": expected dy and dx [B, S, H, D]");
        try (OpContext k = context.open("rotaryPositionEmbeddingGrad", dy, positions, dx)) {
            rotatePositions(k, "rotaryPositionEmbeddingGrad", dy, positions, theta, scale, dx, true);
        }
    }

    /**
     * out = R x (forward) or R^T x (backward), where R rotates each (x_i, x_{i+D/2}) pair by the
     * angles of {@code positions}.
     */
    private void rotatePositions(OpContext k, String kernel, Tensor x, Tensor positions, float theta, float scale,
                                 Tensor out, boolean transpose) {
        TensorRef xr = TensorRef.of(x);
        TensorRef or = TensorRef.of(out);
        TensorRef[] cs = ropeTables(k, kernel, x, positions, theta, scale, fullWidthTables(), tableType(x.dtype()));
        rotate(k, xr, or, cs[0], cs[1], transpose);
    }

    /** Whether this variant takes [..., D] tables (each half repeated) rather than [..., D/2] ones. */
    abstract boolean fullWidthTables();

    /** The dtype of the tables this variant takes for an input of dtype {@code x}. */
    abstract DType tableType(DType x);

    /** out = R x (forward) or R^T x (backward), R given by the cos and sin tables of {@link #ropeTables}. */
    abstract void rotate(OpContext k, TensorRef x, TensorRef out, TensorRef cos, TensorRef sin, boolean transpose);

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
        TensorRef invFreq = context.constants().ropeInverseFrequencies(d, theta, scale, width);
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
}
