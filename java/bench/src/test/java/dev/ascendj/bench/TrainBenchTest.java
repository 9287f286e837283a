package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The training benchmark runs whole steps and reports consistent figures (no speed is asserted). */
@Timeout(120)
class TrainBenchTest {
    private static TrainBench.Config tiny(String method) {
        return new TrainBench.Config(32, 2, 4, 2, 48, 97, 16, 2, method, 4, 1, 2, 7);
    }

    @Test
    void fullFineTuningReportsConsistentFigures() {
        BenchResult r = new TrainBench(tiny("full"), true).run();
        Map<String, Object> m = r.metrics();
        double step = (Double) m.get("stepSeconds");
        assertTrue(step > 0);
        assertEquals(2 * 16 / step, (Double) m.get("tokensPerSecond"), 1e-9 * (Double) m.get("tokensPerSecond"));
        assertEquals(m.get("parameters"), m.get("trainableParameters"), "full fine-tuning trains everything");
        assertTrue((Long) m.get("peakRssBytes") > 0);
        assertTrue(m.get("threads") instanceof Integer);
        // Fresh random tokens every step: a model initialised near uniform stays near ln(97).
        assertEquals(Math.log(97), (Double) m.get("firstLoss"), 0.2);
        assertEquals(Math.log(97), (Double) m.get("lastLoss"), 0.2);
        @SuppressWarnings("unchecked")
        Map<String, Object> ops = (Map<String, Object>) m.get("opSecondsPerStep");
        assertTrue(ops.containsKey("applyAdamW") && ops.containsKey("crossEntropyLossWithGrad"), ops.toString());
        assertTrue(r.render().contains("tokensPerSecond"));
    }

    @Test
    void loraTrainsOnlyTheAdapters() {
        Map<String, Object> m = new TrainBench(tiny("lora")).run().metrics();
        long total = (Long) m.get("parameters");
        long trainable = (Long) m.get("trainableParameters");
        // rank 4 adapters on the seven projections of two layers: A [4, in] and B [out, 4]
        long perLayer = 4L * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32) + (32 + 48) + (32 + 48) + (48 + 32));
        assertEquals(2 * perLayer, trainable);
        assertTrue(trainable < total);
        assertEquals("lora", m.get("method"));
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new TrainBench.Config(32, 2, 4, 2, 48, 97, 16, 2, "qlora", 4, 1, 2, 7));
        assertThrows(IllegalArgumentException.class,
                () -> new TrainBench.Config(32, 2, 4, 2, 48, 97, 16, 2, "full", 4, 1, 0, 7));
    }
}
