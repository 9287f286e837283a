package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.plan.CpuMeasurement;
import dev.ascendj.plan.EfficiencyCurve;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.HardwareProfile;
import dev.ascendj.plan.Precision;
import org.junit.jupiter.api.Test;

/** Measuring this machine's CPU for the planner: never fails, and says how each figure was obtained. */
class CpuProfilerTest {

    @Test
    void measuringNeverFailsAndSaysHowFiguresWereObtained() {
        CpuMeasurement m = CpuProfiler.measure();
        assertTrue(m.copyBandwidth() > 0);
        assertTrue(m.threads() >= 1);
        if (m.gemmMeasured()) {
            assertTrue(m.gemmFlops() > 1e6 && Double.isFinite(m.gemmFlops()));
            assertTrue(m.note().startsWith("GEMM measured through Ops.matmul"), m.note());
            assertEquals(1.0, m.matrixEfficiency().at(1e6), 1e-9);
            // Skinny products and the other kernels are measured too, each as its own figure.
            if (m.skinnyEfficiency() != null) {
                for (EfficiencyCurve.Point p : m.skinnyEfficiency().points()) {
                    assertTrue(p.efficiency() > 0 && p.efficiency() <= 1, p.toString());
                }
                assertEquals(4, m.kernelSecondsPerElement().size(), m.note());
                m.kernelSecondsPerElement().values().forEach(v -> assertTrue(v > 0 && v < 1e-3, m.note()));
                assertTrue(m.attentionFlops() > 1e6 && Double.isFinite(m.attentionFlops()), m.note());
                assertTrue(m.note().contains("skinny GEMMs") && m.note().contains("flash attention"), m.note());
            } else {
                assertTrue(m.note().contains("kernels not measured"), m.note());
            }
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
    void theCatalogOfThisMachineCarriesTheMeasurement() {
        assertTrue(CpuProfiler.catalog().profile("cpu").notes().stream().anyMatch(n -> n.contains(CpuProfiler.cached().note())));
    }
}
