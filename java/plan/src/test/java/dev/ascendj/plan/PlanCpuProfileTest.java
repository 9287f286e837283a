package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU profile: measured when the backend can multiply, fallback figures when it cannot. */
class PlanCpuProfileTest {

    @Test
    void measuringNeverFailsAndSaysHowFiguresWereObtained() {
        CpuProfiler.Measurement m = CpuProfiler.measure();
        assertTrue(m.copyBandwidth() > 0);
        assertTrue(m.threads() >= 1);
        if (m.gemmMeasured()) {
            assertTrue(m.gemmFlops() > 1e6 && Double.isFinite(m.gemmFlops()));
            assertTrue(m.note().startsWith("GEMM measured through Ops.matmul"), m.note());
            assertEquals(1.0, m.matrixEfficiency().at(1e6), 1e-9);
        } else {
            assertTrue(m.note().startsWith("GEMM not measured"), m.note());
        }
        // Whatever happened, the catalog turns it into a valid profile.
        HardwareProfile cpu = HardwareCatalog.builtIn().withCpuMeasurement(() -> m).profile("cpu");
        assertTrue(cpu.peakFlops(Precision.FP32) > 0);
        assertEquals(Precision.FP32, cpu.defaultPrecision());
        assertTrue(cpu.notes().stream().anyMatch(n -> n.startsWith("CPU profile: ")));
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
    void anUnmeasuredGemmKeepsTheFallbackFigures() {
        CpuProfiler.Measurement none = new CpuProfiler.Measurement(Double.NaN, null, 8e9, -1, 1L << 30, 1, "GEMM not measured (test)");
        HardwareProfile cpu = HardwareCatalog.builtIn().withCpuMeasurement(() -> none).profile("cpu");
        assertEquals(20e9, cpu.peakFlops(Precision.FP32));
        assertEquals(8L << 30, cpu.memory().capacityBytes());
        assertEquals(8e9, cpu.memory().bandwidthBytesPerSecond());
    }

    @Test
    void measurementOnlyTouchesTheFiguresItHas() {
        JsonNode template = Specs.parseTree("{compute: {peakFlops: {fp32: 1}}, memory: {capacityBytes: 5}, topology: {intraGroup: {}, interServer: {}}}",
                false, "t");
        CpuProfiler.Measurement m = new CpuProfiler.Measurement(3e9, EfficiencyCurve.constant(1), Double.NaN, 4L << 30, 1L << 30, 1, "x");
        JsonNode out = HardwareCatalog.applyMeasurement(template, m);
        assertEquals(3e9, out.at("/compute/peakFlops/bf16").doubleValue());
        assertEquals(4L << 30, out.at("/memory/capacityBytes").longValue());
        assertTrue(out.at("/memory/bandwidthBytesPerSecond").isMissingNode());
        assertEquals(List.of(), List.of());
    }
}
