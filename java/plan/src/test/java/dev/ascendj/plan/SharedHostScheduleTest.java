package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Virtual CPU devices are threads sharing the host's cores: with more ranks than cores the 1F1B
 * schedule lasts the larger of all ranks' work over the host and the critical path at one core
 * per rank; with no more ranks than cores it is priced as for dedicated devices.
 */
class SharedHostScheduleTest {
    private static final JobSpec JOB = JobSpec.full(128, 16L);

    private static Plan plan(String cluster, int cores, FixedDegrees fixed) {
        CpuMeasurement m = TestCatalogs.FIXED_CPU;
        CpuMeasurement withCores = new CpuMeasurement(m.gemmFlops(), m.matrixEfficiency(),
                m.copyBandwidth(), m.physicalMemory(), m.heapMax(), cores, m.note());
        SearchResult r = new Planner(HardwareCatalog.builtIn().withCpuMeasurement(() -> withCores))
                .plan(Fixtures.request("llama2-15m", cluster, JOB), fixed, 1);
        assertTrue(r.best().isPresent(), r::reason);
        return r.best().get();
    }

    @Test
    void moreRanksThanCoresShareTheWaitingTime() {
        FixedDegrees pp4 = Fixtures.fix(2, 1, 4, 1, 8, Recompute.NONE, false);
        Plan dedicated = plan("1x8-cpu", 8, pp4);     // as many cores as ranks: the plain 1F1B schedule
        Plan shared = plan("1x8-cpu", 2, pp4);
        Estimate d = dedicated.estimate();
        int m = dedicated.microBatches();
        double slots = 0;
        double worst = 0;
        for (int s = 0; s < d.stageForwardSeconds().size(); s++) {
            double slot = d.stageForwardSeconds().get(s) + d.stageBackwardSeconds().get(s);
            slots += slot;
            worst = Math.max(worst, slot);
        }
        double pipeline = slots + (m - 1) * worst;
        double tail = d.time().dataParallel() + d.time().optimizer();
        assertEquals(pipeline + tail, d.stepSeconds(), 1e-9 * d.stepSeconds(), "dedicated: 1F1B with its bubble");
        double work = m * slots / 4;
        double critical = pipeline * 2 / 8;
        assertEquals(Math.max(work, critical) + tail, shared.stepSeconds(), 1e-9 * shared.stepSeconds());
        assertTrue(shared.stepSeconds() < dedicated.stepSeconds());
        assertEquals(shared.stepSeconds(), shared.estimate().time().total(), 1e-9 * shared.stepSeconds(),
                "the time components are scaled with the schedule");
    }

    @Test
    void noMoreRanksThanCoresKeepTheBubble() {
        FixedDegrees pp2 = Fixtures.fix(1, 1, 2, 4, 4, Recompute.NONE, false);
        assertEquals(plan("1x2-cpu", 64, pp2).stepSeconds(), plan("1x2-cpu", 2, pp2).stepSeconds(), 0);
    }
}
