package dev.ascendj.plan;

/**
 * What was measured of this machine's CPU, the input of the planner's {@code cpu} profile
 * ({@link HardwareCatalog#withCpuMeasurement}): measured by {@code dev.ascendj.bench.CpuProfiler}
 * (or given by tests), so that the planner itself runs no kernel.
 *
 * @param gemmFlops          FP32 GEMM FLOP/s at the largest size, or NaN when not measured
 * @param matrixEfficiency   efficiency by GFLOP per call relative to {@code gemmFlops}, or null
 * @param copyBandwidth      bytes/s a large memory copy moves (read + write), or NaN
 * @param physicalMemory     RAM of the machine in bytes, or -1 when the JVM cannot tell
 * @param heapMax            the JVM's maximum heap, unavailable to off-heap tensors
 * @param threads            CPU backend threads during the measurement
 * @param note               how the figures were obtained
 * @param skinnyEfficiency   factor on {@code matrixEfficiency} by a GEMM's smallest dimension, or null
 * @param kernelSecondsPerElement seconds per element of RMSNorm, RoPE and SwiGLU (per input
 *                           element) and of the softmax cross-entropy (per logit), forward and
 *                           backward together; null or empty when not measured
 * @param attentionFlops     FLOP/s of the flash-attention kernel (forward and backward), or NaN
 */
public record CpuMeasurement(double gemmFlops, EfficiencyCurve matrixEfficiency, double copyBandwidth,
                             long physicalMemory, long heapMax, int threads, String note,
                             EfficiencyCurve skinnyEfficiency, java.util.Map<FusedOp, Double> kernelSecondsPerElement,
                             double attentionFlops) {

    /** GEMM, copy and RAM figures only (the kernels priced by the profile's defaults). */
    public CpuMeasurement(double gemmFlops, EfficiencyCurve matrixEfficiency, double copyBandwidth, long physicalMemory,
                          long heapMax, int threads, String note) {
        this(gemmFlops, matrixEfficiency, copyBandwidth, physicalMemory, heapMax, threads, note, null, null, Double.NaN);
    }

    /** True when the GEMM figures were measured. */
    public boolean gemmMeasured() {
        return !Double.isNaN(gemmFlops);
    }
}
