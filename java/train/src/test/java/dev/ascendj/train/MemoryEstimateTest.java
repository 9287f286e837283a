package dev.ascendj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.cpu.collective.VirtualCluster;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.plan.Layout;
import dev.ascendj.plan.Recompute;
import dev.ascendj.train.batch.Batch;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.batch.DataPosition;
import dev.ascendj.train.parallel.FullWeights;
import dev.ascendj.train.parallel.ParallelTrainer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The memory estimate against what training really allocates (the device's peak of tensor
 * bytes), on llama2-15m, whose shapes the activation terms were fitted to; and the refusal of a
 * job that cannot fit, with the numbers.
 */
class MemoryEstimateTest {
    private static final LlamaConfig MODEL = LlamaConfigs.preset("llama2-15m");

    /** Random tokens and targets: what memory a step takes does not depend on the data. */
    private static BatchSource data(int seq) {
        return new BatchSource() {
            private int drawn;

            @Override
            public Batch next(int rows) {
                SplittableRandom rnd = new SplittableRandom(++drawn);
                int[] ids = rnd.ints((long) rows * seq, 0, MODEL.vocabSize()).toArray();
                int[] targets = rnd.ints((long) rows * seq, 0, MODEL.vocabSize()).toArray();
                return new Batch(ids, targets, rows, seq);
            }

            @Override
            public DataPosition position() {
                return new DataPosition(0, drawn);
            }

            @Override
            public void seek(DataPosition position) {
                drawn = position.next();
            }
        };
    }

    @ParameterizedTest(name = "{0}, batch {1} x {2} tokens, recompute {3}")
    @CsvSource({"full, 2, 64, false", "lora, 2, 64, true"})
    void oneDeviceIsWithinItsFittedBandOfTheMeasuredPeak(String method, int batch, int seq, boolean recompute,
                                                         @TempDir Path out) {
        LoraConfig lora = method.equals("lora") ? new LoraConfig(8, 16, 0.05f, LoraConfig.ALL_TARGETS) : null;
        MemoryEstimate e = MemoryEstimate.oneDevice(MODEL, lora, false, batch, seq, recompute);
        TrainOptions o = TrainOptions.builder().microBatch(batch).minLr(1e-4).warmupSteps(1).seed(1).keepCheckpoints(1)
                .recompute(recompute).build();
        try (CpuBackend backend = new CpuBackend(1);
             LlamaModel m = LlamaModel.initialize(MODEL, backend.device(0), 1, lora);
             Trainer t = new Trainer(m, backend.ops(), data(seq), o, out)) {
            t.run((Path) null, TrainListener.NONE);
            double measured = backend.device(0).memoryInfo().peakBytes();
            double ratio = e.total() / measured;
            assertTrue(ratio > 0.75 && ratio < 1.15, "estimate " + MemoryEstimate.human(e.total()) + " ("
                    + e.describe() + ") against " + MemoryEstimate.human((long) measured) + " measured: " + ratio);
        }
    }

    @Test
    void aParallelRunsRanksAddUpToAboutWhatTheyAllocate() {
        int seq = 32;
        Layout layout = Layout.of(2, 1, 2, 1, 2, Recompute.NONE, true, false, null, MODEL.numHiddenLayers());
        MemoryEstimate e = MemoryEstimate.parallel(MODEL, null, layout, IntStream.range(0, 4).toArray(), seq);
        FullWeights start;
        try (CpuBackend one = new CpuBackend(1);
             LlamaModel m = LlamaModel.initialize(MODEL, one.device(0), 1, null)) {
            start = FullWeights.of(m);
        }
        TrainOptions o = TrainOptions.builder().microBatch(layout.globalBatch()).minLr(1e-4).warmupSteps(1).seed(1)
                .keepCheckpoints(1).build();
        List<ParallelTrainer.RankResult> r;
        try (VirtualCluster cluster = new VirtualCluster(layout.worldSize())) {
            r = new ParallelTrainer(cluster.backend(), cluster, layout, MODEL, null, start, o).keepWeights(false)
                    .run(data(seq), TrainListener.NONE);
        }
        double measured = r.stream().mapToLong(ParallelTrainer.RankResult::peakBytes).sum();
        double ratio = e.total() / measured;
        assertTrue(ratio > 0.75 && ratio < 1.3, "estimate " + MemoryEstimate.human(e.total()) + " against "
                + MemoryEstimate.human((long) measured) + " measured: " + ratio);
    }

    @Test
    void aJobThatCannotFitIsRefusedWithTheEstimateTheLimitAndWhatToDo() {
        LlamaConfig huge = new LlamaConfig(288, 768, 1_000_000_000, 6, 6, 32000, 1e-5, 10000, null, true, 256);
        MemoryEstimate e = MemoryEstimate.oneDevice(huge, null, false, 8, 256, false);
        InsufficientMemoryException x = assertThrows(InsufficientMemoryException.class,
                () -> e.require("finetune huge", 8L << 30, 24L << 30));
        assertTrue(x.getMessage().startsWith("finetune huge needs about 48 PiB of tensor memory (weights 3.5 PiB,"),
                x.getMessage());
        assertTrue(x.getMessage().contains("this JVM may allocate 8.0 GiB (its -Xmx), and this machine has 24 GiB: it"
                + " does not fit here"), x.getMessage());
        MemoryEstimate small = MemoryEstimate.oneDevice(MODEL, null, false, 8, 256, false);
        InsufficientMemoryException y = assertThrows(InsufficientMemoryException.class,
                () -> small.require("finetune llama2-15m", 256L << 20, 24L << 30));
        assertTrue(y.getMessage().contains("run it as java -Xmx2g -jar ascendj.jar"), y.getMessage());
        small.require("finetune llama2-15m", 4L << 30, 24L << 30);
        assertEquals(small.total(), small.weights() + small.gradients() + small.optimizer() + small.activations());
    }
}
