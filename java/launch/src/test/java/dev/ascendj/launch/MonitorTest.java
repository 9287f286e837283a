package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MonitorTest {

    static final Path SAMPLES = Path.of("src/test/resources/dev/ascendj/launch/monitor");

    @TempDir
    Path dir;

    @Test
    void parsesBothMindFormersLineFormats() throws Exception {
        RankLog log = RankLog.parseMindFormers(0, SAMPLES.resolve("run/output/log/rank_0/mindformer.log"));
        assertEquals(30, log.steps().size());
        RankLog.Step s7 = log.steps().get(6);
        assertEquals(7, s7.step());
        assertTrue(s7.overflow());
        assertEquals(32768.0, s7.lossScale());
        assertEquals(1210.123, s7.stepMs(), 1e-9);
        RankLog.Step s12 = log.steps().get(11);
        assertEquals(1.677, s12.loss(), 1e-12);
        assertEquals(1200.0, s12.stepMs());
        assertEquals(4.1, log.steps().get(21).loss(), 1e-12);
    }

    @Test
    void findsStragglersSilentRanksSpikesOverflowsAndHcclErrors() {
        Monitor.Report r = Monitor.analyse(Monitor.scan(SAMPLES.resolve("run")), Monitor.Rules.DEFAULT, 64 * 2048, 16);
        assertEquals(4, r.ranks().size());
        assertEquals(List.of(2), r.stragglers());
        assertEquals(List.of(3), r.silent());
        assertEquals(4, r.spikes().size());
        assertTrue(r.spikes().stream().allMatch(s -> s.step() == 22 && s.loss() == 4.1), r.spikes().toString());
        Monitor.RankSummary r0 = r.ranks().get(0);
        assertEquals(1, r0.overflows());
        assertEquals(1, r0.scaleDrops());
        assertEquals(32768.0, r0.lossScale());
        assertEquals(30, r0.lastStep());
        // 131072 tokens per step in the median 1.21 s over 16 devices
        assertEquals(131072 / (r0.medianStepMs() / 1000) / 16, r0.tokensPerSecond(), 1e-9);
        assertEquals(3, r.errors().size());
        assertTrue(r.errors().get(0).startsWith("error: rank 3 mindformer.log:29: EI0006 - HCCL socket connection timed out"), r.errors().toString());
        String summary = r.summary();
        assertTrue(summary.contains("straggler: rank 2"), summary);
        assertTrue(summary.contains("silent: rank 3 stopped logging (last step 26)"), summary);
        assertTrue(summary.contains("loss spike: rank 0 step 22 loss 4.1000"), summary);
        assertTrue(summary.endsWith("needs attention\n"), summary);
    }

    @Test
    void spikeRuleIsConfigurable() {
        Monitor.Report r = Monitor.analyse(Monitor.scan(SAMPLES.resolve("run")), new Monitor.Rules(3.5, 20, 1.3, 5), 0, 0);
        assertTrue(r.spikes().isEmpty(), r.spikes().toString());
        assertTrue(r.stragglers().isEmpty());
        assertTrue(r.silent().isEmpty());
    }

}
