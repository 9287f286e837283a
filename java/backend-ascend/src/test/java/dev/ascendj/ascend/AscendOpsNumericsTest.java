package dev.ascendj.ascend;

import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link AscendOpsNumericsContract} on the fake aclnn (910A compositions, evaluated in double
 * precision on host memory), plus the fused operators the fake evaluates on a fake 910B.
 */
class AscendOpsNumericsTest extends AscendOpsNumericsContract {
    @Override
    TestNpu openNpu() {
        return FakeNpu.a910();
    }

    @Override
    boolean roundsMatmulOperandsToHalf() {
        return false; // the fake evaluates products in double
    }

    @Test
    void fusedRmsNormOn910BMatchesTheReferenceToo() {
        try (FakeNpu b = FakeNpu.b910(); Scope s = Scope.open()) {
            NpuDevice dev = b.device();
            float[] x = rand(2 * 8);
            float[] w = rand(8);
            Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(2, 8));
            Tensor rstd = Tensor.empty(dev, DType.FP32, Shape.of(2));
            b.ops().rmsNorm(Tensor.fromFloats(dev, Shape.of(2, 8), x), Tensor.fromFloats(dev, Shape.of(8), w), 1e-5f, out, rstd);
            close(rmsNormRef(toDouble(x), toDouble(w), 1e-5, 8), out.toFloatArray(), 1e-5, "fused rmsNorm");
        }
    }

    @Test
    void fusedSwiGluOn910BReadsTheTwoHalvesOfOneBuffer() {
        try (FakeNpu b = FakeNpu.b910(); Scope s = Scope.open()) {
            NpuDevice dev = b.device();
            float[] gu = rand(2 * 6);
            Tensor gateUp = Tensor.fromFloats(dev, Shape.of(2, 6), gu);
            Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(2, 3));
            b.ops().swiGlu(gateUp.slice(1, 0, 3), gateUp.slice(1, 3, 6), out);
            double[] ref = new double[6];
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < 3; j++) {
                    ref[r * 3 + j] = silu(gu[r * 6 + j]) * gu[r * 6 + 3 + j];
                }
            }
            close(ref, out.toFloatArray(), 1e-5, "fused swiGlu");
        }
    }

}
