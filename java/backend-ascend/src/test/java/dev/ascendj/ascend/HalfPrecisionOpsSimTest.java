package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code AscendBackend.ops(stream, true)}, the kernels of the executor's FP16 mode, over the
 * simulated CANN as a 910A and as a 910B: every output a kernel hands to the next is an FP16
 * value within FP16's rounding of the FP32 kernel's, overflow gives infinity (what dynamic loss
 * scaling looks for), matmul operands are rounded to FP16 on both SoCs, and the statistics kept
 * for the backward pass and the optimizer's FP32 master weights are not rounded.
 */
class HalfPrecisionOpsSimTest {
    private static final double U = 0x1p-11;

    /** FP16 values (so that rounding matmul operands changes nothing and outputs compare to FP32 kernels). */
    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = Half.roundToHalf((float) r.nextGaussian());
        }
        return a;
    }

    private static void fp16Values(Tensor half, Tensor full, String what) {
        float[] h = half.toFloatArray();
        float[] f = full.toFloatArray();
        for (int i = 0; i < h.length; i++) {
            assertEquals(Half.roundToHalf(h[i]), h[i], what + "[" + i + "] is an FP16 value");
            assertEquals(f[i], h[i], U * Math.abs(f[i]) + 1e-6, what + "[" + i + "] within FP16 rounding");
        }
    }

    @Test
    void everyOutputIsAnFp16ValueWhileTheBackwardStatisticsStayFp32() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        Ops half = npu.ops(d.defaultStream(), true);
        Ops full = npu.ops(d.defaultStream(), false);
        assertInstanceOf(HalfPrecisionOps.class, half);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.fromFloats(d, Shape.of(6, 16), random(96, 1));
            Tensor w = Tensor.fromFloats(d, Shape.of(8, 16), random(128, 2));
            Tensor g = Tensor.fromFloats(d, Shape.of(16), random(16, 3));
            Tensor z = Tensor.fromFloats(d, Shape.of(6, 8), random(48, 4));
            Tensor[] y = new Tensor[2];
            Tensor[] n = new Tensor[2];
            Tensor[] rstd = new Tensor[2];
            Tensor[] sw = new Tensor[2];
            Tensor[] loss = new Tensor[2];
            Tensor[] lse = new Tensor[2];
            Tensor[] dl = new Tensor[2];
            Tensor labels = Tensor.fromInts(d, Shape.of(6), 1, 7, 0, 3, 3, 5);
            Ops[] ops = {half, full};
            for (int k = 0; k < 2; k++) {
                y[k] = Tensor.empty(d, DType.FP32, Shape.of(6, 8));
                ops[k].matmul(x, false, w, true, y[k], 1f, 0f);
                n[k] = Tensor.empty(d, DType.FP32, Shape.of(6, 16));
                rstd[k] = Tensor.empty(d, DType.FP32, Shape.of(6));
                ops[k].rmsNorm(x, g, 1e-5f, n[k], rstd[k]);
                sw[k] = Tensor.empty(d, DType.FP32, Shape.of(6, 8));
                ops[k].swiGlu(z, z, sw[k]);
                loss[k] = Tensor.empty(d, DType.FP32, Shape.of(1));
                lse[k] = Tensor.empty(d, DType.FP32, Shape.of(6));
                dl[k] = Tensor.empty(d, DType.FP32, Shape.of(6, 8));
                ops[k].crossEntropyLossWithGrad(z, labels, -100, Reduction.SUM, 0.37f, loss[k], lse[k], dl[k]);
            }
            fp16Values(y[0], y[1], "matmul");
            fp16Values(n[0], n[1], "rmsNorm");
            fp16Values(sw[0], sw[1], "swiGlu");
            fp16Values(loss[0], loss[1], "loss");
            fp16Values(dl[0], dl[1], "dLogits");
            float[] r = rstd[0].toFloatArray();
            float[] l = lse[0].toFloatArray();
            assertEquals(java.util.Arrays.toString(rstd[1].toFloatArray()), java.util.Arrays.toString(r), "rstd as FP32");
            assertEquals(java.util.Arrays.toString(lse[1].toFloatArray()), java.util.Arrays.toString(l), "lse as FP32");
            boolean beyondHalf = false;
            for (float v : r) {
                beyondHalf |= Half.roundToHalf(v) != v;
            }
            assertTrue(beyondHalf, "rstd keeps digits FP16 has not");
        }
    }

    @Test
    void overflowGivesInfinityForTheLossScalerToFind() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.fromFloats(d, Shape.of(2), 1000f, -1000f);
            Tensor y = Tensor.empty(d, DType.FP32, Shape.of(2));
            npu.ops(d.defaultStream(), true).muls(x, 100f, y);
            float[] v = y.toFloatArray();
            assertEquals(Float.POSITIVE_INFINITY, v[0]);
            assertEquals(Float.NEGATIVE_INFINITY, v[1]);
            assertFalse(npu.ops(d.defaultStream(), true).allFinite(y));
            npu.ops(d.defaultStream(), false).muls(x, 100f, y);
            assertEquals(100000f, y.toFloatArray()[0], "FP32 kernels do not overflow there");
        }
    }

    @Test
    void matmulOperandsAreRoundedToFp16OnEverySocAndMasterWeightsAreNot() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        Ops half = npu.ops(d.defaultStream(), true);
        try (Scope s = Scope.open()) {
            float a = 1f + 0x1p-13f;  // not an FP16 value: the cube units see 1
            Tensor x = Tensor.fromFloats(d, Shape.of(1, 1), a);
            Tensor w = Tensor.fromFloats(d, Shape.of(1, 1), 3f);
            Tensor y = Tensor.empty(d, DType.FP32, Shape.of(1, 1));
            half.matmul(x, false, w, false, y, 1f, 0f);
            assertEquals(3f, y.toFloatArray()[0], "(1 + 2^-13) * 3 with the operand in FP16");

            Tensor p = Tensor.fromFloats(d, Shape.of(4), 1f, 2f, 3f, 4f);
            Tensor grad = Tensor.fromFloats(d, Shape.of(4), 0.1f, -0.2f, 0.3f, -0.4f);
            Tensor m = Tensor.zeros(d, DType.FP32, Shape.of(4));
            Tensor v = Tensor.zeros(d, DType.FP32, Shape.of(4));
            half.applyAdamW(p, grad, m, v, 1e-4f, 0.9f, 0.95f, 1e-8f, 0f, 1);
            float[] after = p.toFloatArray();
            assertEquals(1f - 1e-4f, after[0], 1e-7f, "an FP32 update, finer than FP16 can hold near 1");
            assertTrue(Half.roundToHalf(after[0]) != after[0]);
        }
    }
}
