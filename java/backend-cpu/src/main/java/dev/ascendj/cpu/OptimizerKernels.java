package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.nio.FloatBuffer;

/**
 * The AdamW update, elementwise in FP32; contiguous FP32 tensors (the usual case: parameters,
 * gradients and moments of a model) are processed in bulk chunks without per-row bookkeeping.
 * The parameter is never rounded through FP16 emulation: it holds the master
 * weights, which stay in their own dtype's precision (FP32 masters on the 910A too).
 */
final class OptimizerKernels {
    private OptimizerKernels() {
    }

    static void applyAdamW(KernelArgs c, Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1,
                           float beta2, float eps, float weightDecay, long step) {
        c.floating("param", param);
        c.floating("grad", grad);
        c.fp32("m", m);
        c.fp32("v", v);
        c.sameShape("grad", grad, "param", param);
        c.sameShape("m", m, "param", param);
        c.sameShape("v", v, "param", param);
        if (step < 1) {
            throw c.fail("step " + step + " must be at least 1 (steps count from 1) for param " + param.describe());
        }
        c.noOverlap("param", param, "grad", grad);
        c.noOverlap("param", param, "m", m);
        c.noOverlap("param", param, "v", v);
        c.noOverlap("m", m, "grad", grad);
        c.noOverlap("m", m, "v", v);
        c.noOverlap("v", v, "grad", grad);
        Step k = new Step(lr, beta1, beta2, eps, weightDecay, step);
        long n = param.numel();
        if (n == 0) {
            return;
        }
        if (dense(param) && dense(grad) && dense(m) && dense(v)) {
            denseUpdate(param, grad, m, v, n, k);
            return;
        }
        TensorRows rp = TensorRows.of(param);
        TensorRows rg = TensorRows.of(grad);
        TensorRows rm = TensorRows.of(m);
        TensorRows rv = TensorRows.of(v);
        Tiles.of(rp).forEach(8, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] p = new float[len];
            float[] g = new float[len];
            float[] mm = new float[len];
            float[] vv = new float[len];
            for (long r = r0; r < r1; r++) {
                rp.read(r, c0, len, p, 0);
                rg.read(r, c0, len, g, 0);
                rm.read(r, c0, len, mm, 0);
                rv.read(r, c0, len, vv, 0);
                k.apply(p, g, mm, vv, len);
                rp.write(r, c0, len, p, 0);
                rm.write(r, c0, len, mm, 0);
                rv.write(r, c0, len, vv, 0);
            }
        });
    }

    /** FP32 and contiguous: the elements are one run of floats in the buffer. */
    private static boolean dense(Tensor t) {
        return t.dtype() == DType.FP32 && t.isContiguous();
    }

    /** The update over four contiguous FP32 tensors, in chunks read and written in bulk. */
    private static void denseUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, Step k) {
        FloatBuffer fp = floats(param);
        FloatBuffer fg = floats(grad);
        FloatBuffer fm = floats(m);
        FloatBuffer fv = floats(v);
        int p0 = (int) param.offset();
        int g0 = (int) grad.offset();
        int m0 = (int) m.offset();
        int v0 = (int) v.offset();
        Tiles.of(1, Math.toIntExact(n)).forEach(8, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] p = HeapScratch.floats(0, len);
            float[] g = HeapScratch.floats(1, len);
            float[] mm = HeapScratch.floats(2, len);
            float[] vv = HeapScratch.floats(3, len);
            fp.get(p0 + c0, p, 0, len);
            fg.get(g0 + c0, g, 0, len);
            fm.get(m0 + c0, mm, 0, len);
            fv.get(v0 + c0, vv, 0, len);
            k.apply(p, g, mm, vv, len);
            fp.put(p0 + c0, p, 0, len);
            fm.put(m0 + c0, mm, 0, len);
            fv.put(v0 + c0, vv, 0, len);
        });
    }

    private static FloatBuffer floats(Tensor t) {
        return ((CpuBuffer) t.buffer()).bytes().asFloatBuffer();
    }

    /**
     * The constants of one step and the elementwise update, in FP32 arithmetic (which the JIT
     * turns into SIMD code) in the form PyTorch uses:
     * <pre>
     * m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
     * p = p - (lr*wd)*p - (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps)
     * </pre>
     * with the bias corrections {@code bc = 1 - beta^t} and the products of constants taken in
     * double once per call ({@code 1 - beta^t} loses digits in float for small t). The decay
     * stays a separate product {@code (lr*wd)*p}: a factor {@code 1 - lr*wd} rounded to float
     * would lose most of a small decay.
     */
    private record Step(float b1, float oneMinusB1, float b2, float oneMinusB2, float decay, float stepSize,
                        float invSqrtBc2, float eps) {
        Step(float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
            this(beta1, (float) (1 - (double) beta1), beta2, (float) (1 - (double) beta2),
                    (float) ((double) lr * weightDecay), (float) (lr / (1 - Math.pow(beta1, step))),
                    (float) (1 / Math.sqrt(1 - Math.pow(beta2, step))), eps);
        }

        void apply(float[] p, float[] g, float[] m, float[] v, int len) {
            for (int i = 0; i < len; i++) {
                float gi = g[i];
                float mi = b1 * m[i] + oneMinusB1 * gi;
                float vi = b2 * v[i] + oneMinusB2 * gi * gi;
                float pi = p[i];
                m[i] = mi;
                v[i] = vi;
                p[i] = pi - decay * pi - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
            }
        }
    }
}
