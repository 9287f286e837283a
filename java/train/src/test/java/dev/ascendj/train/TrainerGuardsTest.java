package dev.ascendj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.train.batch.BatchSource;
import dev.ascendj.train.report.TrainLog;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What stops or steers a run on one device: a non-finite loss stops it naming the step and the
 * last good checkpoint; the spike guard rolls back and skips batches (ending with the weights of
 * a run that never saw them); a damaged newest checkpoint is passed over.
 */
class TrainerGuardsTest {
    private final CpuBackend backend = new CpuBackend(1);
    private final Ops ops = backend.ops();

    private Map<String, float[]> train(Path out, BatchSource data, TrainOptions o, SpikeRule guard, Path from,
                                       TrainListener listener) {
        try (LlamaModel model = LlamaModel.initialize(SpikyData.TINY, backend.device(0), 5, null);
             Trainer t = new Trainer(model, ops, data, o, out).spikeGuard(guard)) {
            t.run(from, listener);
            Map<String, float[]> w = new LinkedHashMap<>();
            for (Parameter p : model.parameters().values()) {
                w.put(p.name(), p.value().toFloatArray());
            }
            return w;
        }
    }

    private static void assertSameWeights(Map<String, float[]> want, Map<String, float[]> got) {
        assertEquals(want.keySet(), got.keySet());
        want.forEach((name, w) -> assertArrayEquals(w, got.get(name), name));
    }

    @Test
    void aSpikeRollsBackToTheLastCheckpointAndSkipsTheBatchesSince(@TempDir Path guarded, @TempDir Path reference)
            throws Exception {
        SpikeRule rule = new SpikeRule(1.5, 3);
        List<TrainLog.Spike> heard = new java.util.ArrayList<>();
        TrainListener listener = new TrainListener() {
            @Override
            public void onStep(long step, long total, double loss, double lr, double norm, double tps) {
            }

            @Override
            public void onSpike(TrainLog.Spike spike) {
                heard.add(spike);
            }
        };
        Map<String, float[]> w = train(guarded, SpikyData.withSpikeAt(8), SpikyData.options(10), rule, null, listener);
        // Checkpoints at 0 (the guard's starting point), 3 and 6: the spike at 8 goes back to 6, skipping 7 and 8.
        List<TrainLog.Spike> events = TrainLog.readSpikes(guarded.resolve(TrainLog.FILE));
        assertEquals(1, events.size(), events.toString());
        TrainLog.Spike s = events.get(0);
        assertEquals(List.of(8L, 6L, 2L), List.of(s.step(), s.rolledBackTo(), s.skippedBatches()));
        assertTrue(s.loss() > 1.5 * s.median(), s.toString());
        assertEquals(events, heard);
        List<TrainLog.Entry> log = TrainLog.read(guarded.resolve(TrainLog.FILE));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), log.stream().map(TrainLog.Entry::step).toList(),
                "the log holds the trajectory taken");

        Map<String, float[]> ref = train(reference, SpikyData.without(8, 7, 8), SpikyData.options(10), null, null,
                TrainListener.NONE);
        assertSameWeights(ref, w);
    }

    @Test
    void spikesThatRollbacksDoNotCureStopTheRun(@TempDir Path out) {
        SpikyData allSpiky = new SpikyData(n -> n >= 8, k -> k);
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> train(out, allSpiky,
                SpikyData.options(12), new SpikeRule(1.5, 3), null, TrainListener.NONE));
        assertTrue(e.getMessage().contains("after 3 rollbacks to " + out.resolve("checkpoints/step-00000006")),
                e.getMessage());
        assertEquals(7, e.step());
    }

    @Test
    void aNonFiniteLossStopsTheRunNamingTheStepAndTheLastGoodCheckpoint(@TempDir Path out) {
        TrainOptions o = SpikyData.options(8);
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> {
            try (LlamaModel model = LlamaModel.initialize(SpikyData.TINY, backend.device(0), 5, null);
                 Trainer t = new Trainer(model, ops, SpikyData.withSpikeAt(-1), o, out)) {
                t.run((Path) null, (step, total, loss, lr, norm, tps) -> {
                    if (step == 4) {
                        // A weight goes bad after the step-3 checkpoint: step 5 computes a NaN loss.
                        Parameter p = model.parameters().get("model.norm.weight");
                        float[] v = p.value().toFloatArray();
                        v[0] = Float.NaN;
                        p.value().copyFrom(v);
                    }
                });
            }
        });
        assertEquals(5, e.step());
        assertTrue(e.getMessage().contains("training stopped at step 5: the loss is NaN in FP32, so the step was not"
                + " applied. The last good checkpoint is " + out.resolve("checkpoints/step-00000003")), e.getMessage());
        assertTrue(e.getMessage().contains("Likely causes: a learning rate too high"), e.getMessage());
        assertFalse(Files.exists(out.resolve("checkpoints/step-00000005")));
    }

    @Test
    void aCheckpointThatCannotBeWrittenSaysWhichAndWhy(@TempDir Path out) throws Exception {
        Files.writeString(out.resolve("checkpoints"), "a file where the directory should be");
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class, () -> train(out,
                SpikyData.withSpikeAt(-1), SpikyData.options(3), null, null, TrainListener.NONE));
        assertTrue(e.getMessage().startsWith("cannot write checkpoint " + out.resolve("checkpoints/step-00000003")
                + ": " + out.resolve("checkpoints")), e.getMessage());
        assertTrue(e.getMessage().endsWith(": already exists") || e.getMessage().endsWith(": not a directory"),
                e.getMessage());
    }

    @Test
    void aDamagedNewestCheckpointIsPassedOverAndTheRunStillEndsWithTheUninterruptedWeights(@TempDir Path straight,
                                                                                          @TempDir Path broken)
            throws Exception {
        TrainOptions o = SpikyData.options(9);
        Map<String, float[]> want = train(straight, SpikyData.withSpikeAt(-1), o, null, null, TrainListener.NONE);
        assertThrows(RuntimeException.class, () -> train(broken, SpikyData.withSpikeAt(-1), o, null, null,
                (step, total, loss, lr, norm, tps) -> {
                    if (step == 7) {
                        throw new RuntimeException("killed at step 7");
                    }
                }));
        // Checkpoints 3 and 6 are kept; truncate 6's weights, as a full disk or a bad copy would.
        Path six = broken.resolve("checkpoints/step-00000006");
        try (RandomAccessFile f = new RandomAccessFile(six.resolve("trainable.safetensors").toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        Path latest = TrainCheckpoint.latest(broken).orElseThrow();
        assertEquals(broken.resolve("checkpoints/step-00000003"), latest);
        assertTrue(TrainCheckpoint.damage(six).contains("trainable.safetensors"), TrainCheckpoint.damage(six));
        Map<String, float[]> resumed = train(broken, SpikyData.withSpikeAt(-1), o, null, latest, TrainListener.NONE);
        assertSameWeights(want, resumed);
        assertEquals(null, TrainCheckpoint.damage(six), "step 6 written again over the damaged one");
        try (var s = Files.list(broken.resolve("checkpoints"))) {
            assertEquals(List.of("step-00000006", "step-00000009"), s.map(p -> p.getFileName().toString()).sorted()
                    .toList(), "pruned to two; nothing else left there");
        }
    }
}
