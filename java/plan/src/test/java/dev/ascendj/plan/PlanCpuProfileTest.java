package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.StrictReader.Syntax;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU profile: a measurement's figures where it has them, the file's fallbacks elsewhere. */
class PlanCpuProfileTest {

    @Test
    void withoutAMeasurementTheProfileKeepsItsFallbackFigures() {
        HardwareProfile cpu = HardwareCatalog.builtIn().profile("cpu");
        assertTrue(cpu.peakFlops(Precision.FP32) > 0);
        assertTrue(cpu.notes().stream().anyMatch(n -> n.contains("not measured")), cpu.notes().toString());
    }

    @Test
    void measuredFiguresReplaceTheTemplate() {
        HardwareProfile cpu = TestCatalogs.catalog().profile("cpu");
        assertEquals(100e9, cpu.peakFlops(Precision.FP32));
        assertEquals(100e9, cpu.peakFlops(Precision.FP16));
        assertEquals(20e9, cpu.memory().bandwidthBytesPerSecond());
        assertEquals(10e9, cpu.topology().intraGroup().bandwidthBytesPerSecond());
        assertEquals(16L << 30, cpu.memory().capacityBytes());
        assertEquals((long) ((16L << 30) * 0.8), cpu.memory().usableBytes());
        assertTrue(cpu.memory().sharedByHost());
    }

    @Test
    void skinnyGemmsAttentionAndKernelsArePricedFromTheirOwnMeasurement() {
        // The same CPU measured twice: GEMM figures alone, and with skinny products at half the
        // square-curve efficiency (k <= 16, rising to 1 at k = 512), flash attention at 5 GFLOP/s and
        // RMSNorm, RoPE, SwiGLU and cross-entropy at 3 ns per element, forward and backward.
        CpuMeasurement plain = TestCatalogs.FIXED_CPU;
        java.util.Map<FusedOp, Double> rates = new java.util.EnumMap<>(FusedOp.class);
        for (FusedOp op : new FusedOp[] {FusedOp.RMS_NORM, FusedOp.ROPE, FusedOp.SWIGLU, FusedOp.CROSS_ENTROPY}) {
            rates.put(op, 3e-9);
        }
        CpuMeasurement shaped = new CpuMeasurement(plain.gemmFlops(), plain.matrixEfficiency(), plain.copyBandwidth(),
                plain.physicalMemory(), plain.heapMax(), plain.threads(), "shaped", EfficiencyCurve.of(16, 0.5, 512, 1.0), rates, 5e9);
        HardwareCatalog a = HardwareCatalog.builtIn().withCpuMeasurement(() -> plain);
        HardwareCatalog b = HardwareCatalog.builtIn().withCpuMeasurement(() -> shaped);
        HardwareProfile cpu = b.profile("cpu");
        assertEquals(3e-9, cpu.kernelSecondsPerElement(FusedOp.SWIGLU));
        assertEquals(5e9, cpu.compute().attentionFlops());
        assertEquals(0.5, cpu.compute().skinnyEfficiencyByMinDim().at(8), 1e-12);
        PlanRequest req = Fixtures.request("llama2-15m", "1x1-cpu", Fixtures.full(256, 8));
        FixedDegrees fixed = new FixedDegrees(1, 1, 1, 8, 1, Recompute.NONE, false, false);
        Plan before = new Planner(a).plan(req, fixed, 1).best().orElseThrow();
        Plan after = new Planner(b).plan(req, fixed, 1).best().orElseThrow();
        // The kernels cost their measured time: llama2-15m, 8 x 256 tokens, one device. Per layer two
        // norms over h = 288, RoPE over q and k (2 x 288), SwiGLU over f = 768; the head's norm and
        // the cross-entropy over 32,000 logits per token; each forward + backward at 3 ns. The
        // residual adds and the embedding stay priced by their bytes, as before.
        double tokens = 8 * 256;
        double measured = 3e-9 * tokens * (6 * (2 * 288 + 2 * 288 + 768) + 288 + 32000);
        double byBytes = before.estimate().time().vector() - vectorOfFusedKernels(before);
        assertEquals(measured + byBytes, after.estimate().time().vector(), 0.02 * after.estimate().time().vector());
        // Skinny products (h = 288, head dimension 48) and the attention kernel cost more.
        assertTrue(after.estimate().time().compute() > 1.1 * before.estimate().time().compute());
        assertTrue(after.stepSeconds() > before.stepSeconds());
        // The Ascend profiles have none of these figures and are unchanged by them.
        assertNull(HardwareCatalog.builtIn().profile("ascend-910a").compute().skinnyEfficiencyByMinDim());
    }

    /** What the unmeasured profile charges for RMSNorm, RoPE, SwiGLU and cross-entropy: their bytes. */
    private static double vectorOfFusedKernels(Plan p) {
        HardwareProfile hw = p.hardware();
        double bw = hw.memory().bandwidthBytesPerSecond();
        double tokens = p.job().tokensPerStep();
        double bytes = 4 * tokens * (6 * (2 * 2 * 288 + 2 * 2 * 288 + 3 * 768) + 2 * 288) + 4 * 4 * tokens * 32000;
        // fwd + 2 x fwd for the backward, except the cross-entropy whose bytes cover both passes.
        double ce = 4 * 4 * tokens * 32000 / bw;
        return 3 * (bytes - 4 * 4 * tokens * 32000) / bw + ce;
    }

    @Test
    void anUnmeasuredGemmKeepsTheFallbackFigures() {
        CpuMeasurement none = new CpuMeasurement(Double.NaN, null, 8e9, -1, 1L << 30, 1, "GEMM not measured (test)");
        HardwareProfile cpu = HardwareCatalog.builtIn().withCpuMeasurement(() -> none).profile("cpu");
        assertEquals(20e9, cpu.peakFlops(Precision.FP32));
        assertEquals(8L << 30, cpu.memory().capacityBytes());
        assertEquals(8e9, cpu.memory().bandwidthBytesPerSecond());
    }

    @Test
    void measurementOnlyTouchesTheFiguresItHas() {
        JsonNode template = PlanInputs.parseTree("{compute: {peakFlops: {fp32: 1}}, memory: {capacityBytes: 5}, topology: {intraGroup: {}, interServer: {}}}",
                Syntax.YAML, "t");
        CpuMeasurement m = new CpuMeasurement(3e9, EfficiencyCurve.constant(1), Double.NaN, 4L << 30, 1L << 30, 1, "x");
        JsonNode out = HardwareCatalog.applyMeasurement(template, m);
        assertEquals(3e9, out.at("/compute/peakFlops/bf16").doubleValue());
        assertEquals(4L << 30, out.at("/memory/capacityBytes").longValue());
        assertTrue(out.at("/memory/bandwidthBytesPerSecond").isMissingNode());
        assertEquals(List.of(), List.of());
    }
}
