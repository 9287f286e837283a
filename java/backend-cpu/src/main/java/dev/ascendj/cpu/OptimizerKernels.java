package dev.ascendj.cpu;

import dev.ascendj.core.Tensor;

/**
 * The AdamW update. The parameter is never rounded through FP16 emulation: it holds the master
 * weights, which stay in their own dtype's precision (FP32 masters on the 910A too).
 */
final class OptimizerKernels {
    private OptimizerKernels() {
    }

    static void applyAdamW(Check c, Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1,
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
        // Bias corrections once per call, in double: 1 - beta^t loses digits in float for small t.
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        double b1 = beta1;
        double b2 = beta2;
        double decay = (double) lr * weightDecay;
        Rows rp = Rows.of(param);
        Rows rg = Rows.of(grad);
        Rows rm = Rows.of(m);
        Rows rv = Rows.of(v);
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
                for (int i = 0; i < len; i++) {
                    double gi = g[i];
                    double mi = b1 * mm[i] + (1 - b1) * gi;
                    double vi = b2 * vv[i] + (1 - b2) * gi * gi;
                    double pi = p[i];
                    pi = pi - decay * pi - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
                    mm[i] = (float) mi;
                    vv[i] = (float) vi;
                    p[i] = (float) pi;
                }
                rp.write(r, c0, len, p, 0);
                rm.write(r, c0, len, mm, 0);
                rv.write(r, c0, len, vv, 0);
            }
        });
    }
}
