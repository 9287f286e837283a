package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmark runs and reports consistent figures (no speed is asserted). */
@Timeout(60)
class CollectiveBenchTest {

    @Test
    void aSmallRunReportsBandwidthsThatAgreeWithItsTimes() {
        BenchResult r = new CollectiveBench(3, 3 * 4096, 3, 1).run();
        assertEquals("collectives", r.name());
        assertEquals(3, r.metrics().get("ranks"));
        double seconds = (Double) r.metrics().get("allReduceSeconds");
        double alg = (Double) r.metrics().get("algBandwidthGBps");
        double bus = (Double) r.metrics().get("busBandwidthGBps");
        assertTrue(seconds > 0 && (Double) r.metrics().get("memcpyGBps") > 0);
        assertEquals(3 * 4096 / seconds / 1e9, alg, alg * 1e-9);
        assertEquals(alg * 4 / 3, bus, bus * 1e-9);
        assertTrue(r.render().contains("busBandwidthOverMemcpy"));
        assertTrue((Double) r.metrics().get("sendRecvGBps") > 0);
    }

    @Test
    void theSameRanksOverTwoProcessesReportTheirOwnFigures() {
        BenchResult r = new CollectiveBench(4, 4 * 4096, 2, 2).run();
        assertEquals(2, r.metrics().get("processes"));
        double seconds = (Double) r.metrics().get("processes.allReduceSeconds");
        double alg = (Double) r.metrics().get("processes.algBandwidthGBps");
        assertEquals(4 * 4096 / seconds / 1e9, alg, alg * 1e-9);
        assertTrue((Double) r.metrics().get("processes.sendRecvGBps") > 0);
        assertEquals(seconds / (Double) r.metrics().get("allReduceSeconds"),
                (Double) r.metrics().get("processes.allReduceOverOneProcess"), 1e-9);
    }

    @Test
    void badSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new CollectiveBench(1, 4096, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new CollectiveBench(2, 4095, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new CollectiveBench(3, 4096, 1, 2));
    }
}
