package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code AscendBackend.ops(stream, compute)}, the kernels of the executor's FP16 and BF16 modes, over
 * the simulated CANN as a 910A and as a 910B: every output a kernel hands to the next is a value of
 * the compute type within its rounding of the FP32 kernel's, FP16 overflow gives infinity (what
 * dynamic loss scaling looks for), matmul operands are rounded to the compute type, the statistics
 * kept for the backward pass and the optimizer's FP32 master weights are not rounded, and BF16 is
 * refused on the 910A, which has none.
 */
class ReducedPrecisionOpsSimTest {
    /** Unit roundoff of the compute type: FP16 has 11 significant bits, BF16 8. */
    private static double unitRoundoff(DType compute) {
        return compute == DType.FP16 ? 0x1p-11 : 0x1p-8;
    }

    /** Values of the compute type (so that rounding matmul operands changes nothing and outputs compare to FP32 kernels). */
    private static float[] random(int n, long seed, DType compute) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = compute.round((float) r.nextGaussian());
        }
        return a;
    }

    private static void valuesOf(DType compute, Tensor reduced, Tensor full, String what) {
        float[] h = reduced.toFloatArray();
        float[] f = full.toFloatArray();
        double u = unitRoundoff(compute);
        for (int i = 0; i < h.length; i++) {
            assertEquals(compute.round(h[i]), h[i], what + "[" + i + "] is a " + compute + " value");
            assertEquals(f[i], h[i], u * Math.abs(f[i]) + 1e-6, what + "[" + i + "] within " + compute + " rounding");
        }
    }

    /** The compute types this SoC has: FP16 everywhere, BF16 on the 910B. */
    private static void assumeSocHas(AscendBackend npu, NpuDevice d, DType compute) {
        Assumptions.assumeTrue(compute == DType.FP16 || npu.ops(d.defaultStream()).soc().bf16(),
                "no " + compute + " on " + npu.ops(d.defaultStream()).soc().name());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void everyOutputIsAValueOfTheComputeTypeWhileTheBackwardStatisticsStayFp32(DType compute) {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        assumeSocHas(npu, d, compute);
        Ops reduced = npu.ops(d.defaultStream(), compute);
        Ops full = npu.ops(d.defaultStream(), DType.FP32);
        assertInstanceOf(ReducedPrecisionOps.class, reduced);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.fromFloats(d, Shape.of(6, 16), random(96, 1, compute));
            Tensor w = Tensor.fromFloats(d, Shape.of(8, 16), random(128, 2, compute));
            Tensor g = Tensor.fromFloats(d, Shape.of(16), random(16, 3, compute));
            Tensor z = Tensor.fromFloats(d, Shape.of(6, 8), random(48, 4, compute));
            Tensor[] y = new Tensor[2];
            Tensor[] n = new Tensor[2];
            Tensor[] rstd = new Tensor[2];
            Tensor[] sw = new Tensor[2];
            Tensor[] loss = new Tensor[2];
            Tensor[] lse = new Tensor[2];
            Tensor[] dl = new Tensor[2];
            Tensor labels = Tensor.fromInts(d, Shape.of(6), 1, 7, 0, 3, 3, 5);
            Ops[] ops = {reduced, full};
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
            valuesOf(compute, y[0], y[1], "matmul");
            valuesOf(compute, n[0], n[1], "rmsNorm");
            valuesOf(compute, sw[0], sw[1], "swiGlu");
            valuesOf(compute, loss[0], loss[1], "loss");
            valuesOf(compute, dl[0], dl[1], "dLogits");
            float[] r = rstd[0].toFloatArray();
            float[] l = lse[0].toFloatArray();
            assertEquals(java.util.Arrays.toString(rstd[1].toFloatArray()), java.util.Arrays.toString(r), "rstd as FP32");
            assertEquals(java.util.Arrays.toString(lse[1].toFloatArray()), java.util.Arrays.toString(l), "lse as FP32");
            boolean beyond = false;
            for (float v : r) {
                beyond |= compute.round(v) != v;
            }
            assertTrue(beyond, "rstd keeps digits " + compute + " has not");
        }
    }

    @Test
    void bf16IsRefusedWhereTheSocHasNone() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        Soc soc = npu.ops(d.defaultStream()).soc();
        Assumptions.assumeFalse(soc.bf16(), soc.name() + " has BF16");
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> npu.ops(d.defaultStream(), DType.BF16));
        assertTrue(e.getMessage().contains(soc.name() + " has no BF16"), e.getMessage());
    }

    @Test
    void bf16KeepsFp32sRangeWhereFp16Overflows() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        assumeSocHas(npu, d, DType.BF16);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.fromFloats(d, Shape.of(2), 1000f, -1000f);
            Tensor y = Tensor.empty(d, DType.FP32, Shape.of(2));
            npu.ops(d.defaultStream(), DType.BF16).muls(x, 100f, y);
            assertEquals(DType.BF16.round(100000f), y.toFloatArray()[0], "1e5 rounded to BF16, not infinity");
            assertTrue(npu.ops(d.defaultStream(), DType.BF16).allFinite(y));
        }
    }

    @Test
    void overflowGivesInfinityForTheLossScalerToFind() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.fromFloats(d, Shape.of(2), 1000f, -1000f);
            Tensor y = Tensor.empty(d, DType.FP32, Shape.of(2));
            npu.ops(d.defaultStream(), DType.FP16).muls(x, 100f, y);
            float[] v = y.toFloatArray();
            assertEquals(Float.POSITIVE_INFINITY, v[0]);
            assertEquals(Float.NEGATIVE_INFINITY, v[1]);
            assertFalse(npu.ops(d.defaultStream(), DType.FP16).allFinite(y));
            npu.ops(d.defaultStream(), DType.FP32).muls(x, 100f, y);
            assertEquals(100000f, y.toFloatArray()[0], "FP32 kernels do not overflow there");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP16", "BF16"})
    void matmulOperandsAreRoundedToTheComputeTypeAndMasterWeightsAreNot(DType compute) {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        assumeSocHas(npu, d, compute);
        Ops reduced = npu.ops(d.defaultStream(), compute);
        try (Scope s = Scope.open()) {
            // Below half the type's spacing at 1 (2^-10 for FP16, 2^-7 for BF16): the cube units see 1.
            float a = 1f + (float) (unitRoundoff(compute) / 4);
            Tensor x = Tensor.fromFloats(d, Shape.of(1, 1), a);
            Tensor w = Tensor.fromFloats(d, Shape.of(1, 1), 3f);
            Tensor y = Tensor.empty(d, DType.FP32, Shape.of(1, 1));
            reduced.matmul(x, false, w, false, y, 1f, 0f);
            assertEquals(3f, y.toFloatArray()[0], a + " * 3 with the operand in " + compute);
            // alpha and beta on top of the rounded product: 0.5 * 3 + 2 * 1.
            Tensor acc = Tensor.fromFloats(d, Shape.of(1, 1), 1f);
            reduced.matmul(x, false, w, false, acc, 0.5f, 2f);
            assertEquals(3.5f, acc.toFloatArray()[0]);

            Tensor p = Tensor.fromFloats(d, Shape.of(4), 1f, 2f, 3f, 4f);
            Tensor grad = Tensor.fromFloats(d, Shape.of(4), 0.1f, -0.2f, 0.3f, -0.4f);
            Tensor m = Tensor.zeros(d, DType.FP32, Shape.of(4));
            Tensor v = Tensor.zeros(d, DType.FP32, Shape.of(4));
            reduced.applyAdamW(p, grad, m, v, 1e-4f, 0.9f, 0.95f, 1e-8f, 0f, 1);
            float[] after = p.toFloatArray();
            assertEquals(1f - 1e-4f, after[0], 1e-7f, "an FP32 update, finer than " + compute + " can hold near 1");
            assertTrue(compute.round(after[0]) != after[0]);
        }
    }

    @Test
    void transposedOperandsInBf16() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice d = npu.device(1);
        assumeSocHas(npu, d, DType.BF16);
        try (Scope s = Scope.open()) {
            float[] av = random(12, 7, DType.BF16);
            float[] bv = random(20, 8, DType.BF16);
            Tensor a = Tensor.fromFloats(d, Shape.of(4, 3), av); // used as a^T: [3, 4]
            Tensor b = Tensor.fromFloats(d, Shape.of(5, 4), bv); // used as b^T: [4, 5]
            Tensor y = Tensor.empty(d, DType.FP32, Shape.of(3, 5));
            npu.ops(d.defaultStream(), DType.BF16).matmul(a, true, b, true, y, 1f, 0f);
            float[] got = y.toFloatArray();
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 5; j++) {
                    double e = 0;
                    for (int k = 0; k < 4; k++) {
                        e += (double) av[k * 3 + i] * bv[j * 4 + k];
                    }
                    assertEquals(DType.BF16.round((float) e), got[i * 5 + j], Math.abs(e) * 0x1p-8 + 1e-6,
                            "y[" + i + "][" + j + "]");
                }
            }
        }
    }
}
