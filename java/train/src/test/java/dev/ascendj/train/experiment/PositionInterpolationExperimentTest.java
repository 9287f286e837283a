package dev.ascendj.train.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment's mechanics on a tiny model (its findings are measured by the command, not asserted). */
class PositionInterpolationExperimentTest {
    private final Ops ops = new CpuBackend(1).ops();

    private static int[] tokens(long seed, int n) {
        // A repetitive sequence with noise, so that a tiny model learns something in a few steps.
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(10) == 0 ? rnd.nextInt(20) : (i % 7) + 1;
        }
        return t;
    }

    private PositionInterpolationExperiment.Options options() {
        LlamaConfig shape = LlamaConfig.builder().hidden(16).intermediate(32).layers(1).heads(2).kvHeads(2).vocab(20).positions(8).build();
        return new PositionInterpolationExperiment.Options(shape, 8, 2, 12, 4, 4, 1e-2, 3e-3, 3);
    }

    @Test
    void runsAllFourEvaluationsDeterministically(@TempDir Path dir) throws Exception {
        PositionInterpolationExperiment exp = new PositionInterpolationExperiment(options(), ops);
        assertEquals(8, exp.baseConfig().maxPositionEmbeddings());
        PositionInterpolationExperiment.Result r = exp.run(tokens(1, 600), tokens(2, 200), PositionInterpolationExperiment.Listener.NONE);
        assertEquals(12, r.pretrainLosses().size());
        assertEquals(4, r.finetuneLosses().size());
        assertTrue(r.pretrainLosses().get(11) < r.pretrainLosses().get(0), "training lowers the loss");
        assertEquals(4, r.byPositionA().length, "buckets of L/2 over 2L");
        assertArrayEquals(new double[] {0, 4, 8, 12}, r.bucketStarts());
        for (double v : new double[] {r.lossAtL(), r.extrapolated(), r.interpolated(), r.finetuned(), r.directFinetuned()}) {
            assertTrue(Double.isFinite(v) && v > 0, "loss " + v);
        }
        double mean = 0;
        for (double v : r.byPositionA()) {
            mean += v / 4;
        }
        assertEquals(r.extrapolated(), mean, 1e-9, "equal buckets average to the mean");
        assertNotEquals(r.extrapolated(), r.interpolated(), "interpolation changes the positions");
        assertNotEquals(r.finetuned(), r.directFinetuned(), "the control trains without interpolation");
        PositionInterpolationExperiment.Result again = new PositionInterpolationExperiment(options(), ops)
                .run(tokens(1, 600), tokens(2, 200), PositionInterpolationExperiment.Listener.NONE);
        assertEquals(r.finetuned(), again.finetuned(), 0.0);
        assertEquals(r.directFinetuned(), again.directFinetuned(), 0.0);
        Path png = dir.resolve("pi.png");
        exp.plot(r, png);
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void rejectsTooLittleTextAndBadFactors() {
        PositionInterpolationExperiment exp = new PositionInterpolationExperiment(options(), ops);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> exp.run(tokens(1, 600), tokens(2, 10), PositionInterpolationExperiment.Listener.NONE));
        assertTrue(e.getMessage().contains("evaluation text has 10 tokens"), e.getMessage());
        LlamaConfig shape = options().model();
        for (double f : new double[] {0, -4, Double.NaN, 0.5, 1.3}) {
            assertThrows(IllegalArgumentException.class,
                    () -> new PositionInterpolationExperiment.Options(shape, 8, f, 1, 1, 1, 1e-3, 1e-3, 1), "factor " + f);
        }
    }
}
