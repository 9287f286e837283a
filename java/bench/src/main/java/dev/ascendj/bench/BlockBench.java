package dev.ascendj.bench;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.CpuThreads;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tokens per second of one LLaMA2 transformer block, forward and backward, composed from the
 * backend's kernels exactly as a training step runs it: RMSNorm, q/k/v projections, rotary
 * embedding, causal attention, output projection and residual; RMSNorm, gate/up projections,
 * SwiGLU, down projection and residual; then every gradient, weights included.
 */
public final class BlockBench {
    /** Shape of the block and of the batch. */
    public record Config(int hidden, int heads, int intermediate, int seq, int batch, int runs) {
        public Config {
            if (hidden < 1 || heads < 1 || intermediate < 1 || seq < 1 || batch < 1 || runs < 1) {
                throw new IllegalArgumentException("block benchmark sizes must be positive: " + this);
            }
            if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
                throw new IllegalArgumentException("hidden " + hidden + " must split into " + heads
                        + " heads of even dimension");
            }
        }
    }

    private final Config cfg;

    public BlockBench(Config cfg) {
        this.cfg = cfg;
    }

    public BenchResult run() {
        CpuBackend backend = new CpuBackend(1);
        Device dev = backend.device(0);
        Ops ops = backend.ops(dev);
        try (Scope scope = Scope.open()) {
            Block block = new Block(ops, dev, cfg);
            double seconds = Timing.medianSeconds(1, cfg.runs(), block::step);
            double tokens = (double) cfg.batch() * cfg.seq();
            // 6 FLOPs per weight per token (2 forward, 4 backward) plus causal attention
            // (QK^T and PV: 2*2*S*D per head per token forward, half masked, x3 with backward).
            long weights = 4L * cfg.hidden() * cfg.hidden() + 3L * cfg.hidden() * cfg.intermediate();
            double flops = tokens * (6.0 * weights + 6.0 * cfg.seq() * cfg.hidden());
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("hidden", cfg.hidden());
            out.put("heads", cfg.heads());
            out.put("intermediate", cfg.intermediate());
            out.put("seq", cfg.seq());
            out.put("batch", cfg.batch());
            out.put("threads", CpuThreads.threads());
            out.put("stepSeconds", seconds);
            out.put("tokensPerSecond", tokens / seconds);
            out.put("gflops", flops / seconds / 1e9);
            return new BenchResult("transformer block forward+backward", out);
        }
    }

    /** The block's weights, activations and gradients, allocated once. */
    private static final class Block {
        private final Ops ops;
        private final int b;
        private final int s;
        private final int h;
        private final int nh;
        private final int d;
        private final int f;
        private final int rows;
        private final Tensor x, wNorm1, wq, wk, wv, wo, wNorm2, wg, wu, wd, pos;
        private final Tensor xn1, rstd1, q, k, v, qr, kr, attn, lse, h1, xn2, rstd2, g, u, a, y;
        private final Tensor dy, da, dg, du, dxn2, dh1, dattn, dq, dk, dv, dxn1, dx;
        private final Tensor dwq, dwk, dwv, dwo, dwg, dwu, dwd, dNorm1, dNorm2;

        Block(Ops ops, Device dev, Config c) {
            this.ops = ops;
            b = c.batch();
            s = c.seq();
            h = c.hidden();
            nh = c.heads();
            d = h / nh;
            f = c.intermediate();
            rows = b * s;
            SplittableRandom rnd = new SplittableRandom(3);
            x = rand(dev, rnd, 1f, rows, h);
            wNorm1 = ones(dev, h);
            wNorm2 = ones(dev, h);
            float ws = (float) (1 / Math.sqrt(h));
            wq = rand(dev, rnd, ws, h, h);
            wk = rand(dev, rnd, ws, h, h);
            wv = rand(dev, rnd, ws, h, h);
            wo = rand(dev, rnd, ws, h, h);
            wg = rand(dev, rnd, ws, f, h);
            wu = rand(dev, rnd, ws, f, h);
            wd = rand(dev, rnd, (float) (1 / Math.sqrt(f)), h, f);
            int[] p = new int[s];
            for (int i = 0; i < s; i++) {
                p[i] = i;
            }
            pos = Tensor.fromInts(dev, Shape.of(s), p);
            xn1 = empty(dev, rows, h);
            rstd1 = empty(dev, rows);
            q = empty(dev, rows, h);
            k = empty(dev, rows, h);
            v = empty(dev, rows, h);
            qr = empty(dev, rows, h);
            kr = empty(dev, rows, h);
            attn = empty(dev, rows, h);
            lse = empty(dev, b, nh, s);
            h1 = empty(dev, rows, h);
            xn2 = empty(dev, rows, h);
            rstd2 = empty(dev, rows);
            g = empty(dev, rows, f);
            u = empty(dev, rows, f);
            a = empty(dev, rows, f);
            y = empty(dev, rows, h);
            dy = rand(dev, rnd, 1f, rows, h);
            da = empty(dev, rows, f);
            dg = empty(dev, rows, f);
            du = empty(dev, rows, f);
            dxn2 = empty(dev, rows, h);
            dh1 = empty(dev, rows, h);
            dattn = empty(dev, rows, h);
            dq = empty(dev, rows, h);
            dk = empty(dev, rows, h);
            dv = empty(dev, rows, h);
            dxn1 = empty(dev, rows, h);
            dx = empty(dev, rows, h);
            dwq = empty(dev, h, h);
            dwk = empty(dev, h, h);
            dwv = empty(dev, h, h);
            dwo = empty(dev, h, h);
            dwg = empty(dev, f, h);
            dwu = empty(dev, f, h);
            dwd = empty(dev, h, f);
            dNorm1 = empty(dev, h);
            dNorm2 = empty(dev, h);
        }

        private Tensor heads(Tensor t) {
            return t.reshape(b, s, nh, d);
        }

        void step() {
            float eps = 1e-5f;
            float scale = (float) (1 / Math.sqrt(d));
            // Forward.
            ops.rmsNorm(x, wNorm1, eps, xn1, rstd1);
            ops.matmul(xn1, false, wq, true, q, 1f, 0f);
            ops.matmul(xn1, false, wk, true, k, 1f, 0f);
            ops.matmul(xn1, false, wv, true, v, 1f, 0f);
            ops.rotaryPositionEmbedding(heads(q), pos, 10000f, 1f, heads(qr));
            ops.rotaryPositionEmbedding(heads(k), pos, 10000f, 1f, heads(kr));
            ops.flashAttentionScore(heads(qr), heads(kr), heads(v), scale, true, heads(attn), lse);
            ops.matmul(attn, false, wo, true, h1, 1f, 0f);
            ops.add(h1, x, 1f, h1);
            ops.rmsNorm(h1, wNorm2, eps, xn2, rstd2);
            ops.matmul(xn2, false, wg, true, g, 1f, 0f);
            ops.matmul(xn2, false, wu, true, u, 1f, 0f);
            ops.swiGlu(g, u, a);
            ops.matmul(a, false, wd, true, y, 1f, 0f);
            ops.add(y, h1, 1f, y);
            // Backward from dy (the gradient of the block output).
            ops.matmul(dy, true, a, false, dwd, 1f, 0f);
            ops.matmul(dy, false, wd, false, da, 1f, 0f);
            ops.swiGluGrad(da, g, u, dg, du);
            ops.matmul(dg, true, xn2, false, dwg, 1f, 0f);
            ops.matmul(du, true, xn2, false, dwu, 1f, 0f);
            ops.matmul(dg, false, wg, false, dxn2, 1f, 0f);
            ops.matmul(du, false, wu, false, dxn2, 1f, 1f);
            ops.rmsNormGrad(dxn2, h1, wNorm2, rstd2, dh1, dNorm2);
            ops.add(dh1, dy, 1f, dh1);
            ops.matmul(dh1, true, attn, false, dwo, 1f, 0f);
            ops.matmul(dh1, false, wo, false, dattn, 1f, 0f);
            ops.flashAttentionScoreGrad(heads(dattn), heads(qr), heads(kr), heads(v), heads(attn), lse, scale, true,
                    heads(dq), heads(dk), heads(dv));
            ops.rotaryPositionEmbeddingGrad(heads(dq), pos, 10000f, 1f, heads(dq));
            ops.rotaryPositionEmbeddingGrad(heads(dk), pos, 10000f, 1f, heads(dk));
            ops.matmul(dq, true, xn1, false, dwq, 1f, 0f);
            ops.matmul(dk, true, xn1, false, dwk, 1f, 0f);
            ops.matmul(dv, true, xn1, false, dwv, 1f, 0f);
            ops.matmul(dq, false, wq, false, dxn1, 1f, 0f);
            ops.matmul(dk, false, wk, false, dxn1, 1f, 1f);
            ops.matmul(dv, false, wv, false, dxn1, 1f, 1f);
            ops.rmsNormGrad(dxn1, x, wNorm1, rstd1, dx, dNorm1);
            ops.add(dx, dh1, 1f, dx);
        }

        private static Tensor empty(Device dev, int... dims) {
            return Tensor.empty(dev, DType.FP32, Shape.of(dims));
        }

        private static Tensor ones(Device dev, int n) {
            float[] v = new float[n];
            java.util.Arrays.fill(v, 1f);
            return Tensor.fromFloats(dev, Shape.of(n), v);
        }

        private static Tensor rand(Device dev, SplittableRandom rnd, float scale, int... dims) {
            Shape shape = Shape.of(dims);
            float[] v = new float[Math.toIntExact(shape.numel())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
            }
            return Tensor.fromFloats(dev, shape, v);
        }
    }
}
