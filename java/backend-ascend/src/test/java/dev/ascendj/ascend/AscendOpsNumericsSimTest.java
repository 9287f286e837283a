package dev.ascendj.ascend;

/**
 * {@link AscendOpsNumericsContract} over the simulated CANN through the real JNI glue: the
 * compositions on the simulated 910A (with its FP16 cube units), the fused operators on the
 * simulated 910B (the surefire executions simulator-910a and simulator-910b).
 */
class AscendOpsNumericsSimTest extends AscendOpsNumericsContract {
    @Override
    TestNpu openNpu() {
        return TestNpu.simulated();
    }

    @Override
    boolean roundsMatmulOperandsToHalf() {
        return SimulatedCann.atlasTraining();
    }
}
