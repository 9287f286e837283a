package dev.ascendj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import dev.ascendj.train.batch.InstructionLoader;
import dev.ascendj.train.report.TrainLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end training on a tiny model: loss falls, runs repeat exactly, resume is bit-exact. */
class TrainerTest {
    private static final Path DATA = Path.of("../../examples/data/kg-train.jsonl");
    private static LlamaTokenizer tokenizer;
    private static List<InstructionRecord> records;
    private final CpuBackend backend = new CpuBackend(1);
    private final Ops ops = backend.ops();

    @BeforeAll
    static void load() {
        tokenizer = LlamaTokenizer.load(Path.of("../../examples/tokenizer/tokenizer.json"));
        records = InstructionRecord.readJsonl(DATA).subList(0, 64);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private LlamaConfig tinyConfig() {
        return LlamaConfig.builder().kvHeads(2).vocab(tokenizer.vocabSize()).positions(256).build();
    }

    private InstructionLoader loader(long seed) {
        return new InstructionLoader(records, tokenizer, PromptTemplate.llama2(), 48, InstructionLoader.Mode.PACKED, seed);
    }

    private TrainOptions options(long steps) {
        return TrainOptions.builder().steps(steps).microBatch(4).gradAccumulation(2).lr(3e-3).minLr(3e-4).warmupSteps(2)
                .weightDecay(0.01).seed(11).build();
    }

    private static Map<String, float[]> weights(LlamaModel m) {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Parameter p : m.parameters().values()) {
            w.put(p.name(), p.value().toFloatArray());
        }
        return w;
    }

    private Trainer.Result train(Path out, TrainOptions o, LoraConfig lora, boolean resume, TrainListener l,
                                 Map<String, float[]> finalWeights) {
        try (LlamaModel model = LlamaModel.initialize(tinyConfig(), backend.device(0), 5, lora);
             Trainer t = new Trainer(model, ops, loader(o.seed()), o, out)) {
            Trainer.Result r = t.run(resume, l);
            if (finalWeights != null) {
                finalWeights.putAll(weights(model));
            }
            return r;
        }
    }

    @Test
    void lossFallsAndTheLogAndPlotAreWritten(@TempDir Path out) throws Exception {
        Trainer.Result r = train(out, options(12), null, false, TrainListener.NONE, null);
        assertTrue(r.lastLoss() < r.firstLoss() - 0.3, "loss " + r.firstLoss() + " -> " + r.lastLoss());
        List<TrainLog.Entry> log = TrainLog.read(out.resolve(TrainLog.FILE));
        assertEquals(12, log.size());
        assertEquals(1, log.get(0).step());
        assertTrue(log.get(0).lr() < log.get(2).lr(), "warm-up raises the learning rate");
        assertTrue(log.get(11).lr() < 3e-3, "cosine decay lowers it");
        assertTrue(log.stream().allMatch(e -> e.gradNorm() > 0 && e.tokensPerSecond() > 0));
        assertTrue(Files.size(out.resolve("loss.png")) > 1000);
        assertTrue(TrainCheckpoint.latest(out).isPresent(), "a final checkpoint");
    }

    @Test
    void sameSeedSameLosses(@TempDir Path a, @TempDir Path b) {
        Trainer.Result r1 = train(a, options(4), null, false, TrainListener.NONE, null);
        Trainer.Result r2 = train(b, options(4), null, false, TrainListener.NONE, null);
        assertEquals(r1.losses(), r2.losses());
    }

    @Test
    void killedAndResumedRunEndsWithTheWeightsOfAnUninterruptedOne(@TempDir Path straight, @TempDir Path broken) {
        TrainOptions o = options(6).withCheckpointEvery(2);
        Map<String, float[]> expected = new LinkedHashMap<>();
        train(straight, o, null, false, TrainListener.NONE, expected);
        RuntimeException killed = assertThrows(RuntimeException.class, () -> train(broken, o, null, false,
                (step, total, loss, lr, g, tps) -> {
                    if (step == 5) {
                        throw new RuntimeException("killed at step 5");
                    }
                }, null));
        assertEquals("killed at step 5", killed.getMessage());
        Map<String, float[]> resumed = new LinkedHashMap<>();
        Trainer.Result r = train(broken, o, null, true, TrainListener.NONE, resumed);
        assertEquals(5, r.firstStep(), "resumes after the step-4 checkpoint");
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name), resumed.get(name), name);
        }
        List<Double> straightLosses = new ArrayList<>();
        List<Double> brokenLosses = new ArrayList<>();
        try {
            TrainLog.read(straight.resolve(TrainLog.FILE)).forEach(e -> straightLosses.add(e.loss()));
            TrainLog.read(broken.resolve(TrainLog.FILE)).forEach(e -> brokenLosses.add(e.loss()));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(straightLosses, brokenLosses, "the resumed log continues the same curve");
    }

    @Test
    void loraTrainsOnlyTheAdaptersAndResumesExactly(@TempDir Path straight, @TempDir Path broken) {
        LoraConfig lora = new LoraConfig(4, 8, 0.1f, Set.of("q_proj", "v_proj", "down_proj"));
        TrainOptions o = options(4).withCheckpointEvery(2);
        Map<String, float[]> before;
        try (LlamaModel m = LlamaModel.initialize(tinyConfig(), backend.device(0), 5, lora)) {
            before = weights(m);
        }
        Map<String, float[]> expected = new LinkedHashMap<>();
        Trainer.Result r = train(straight, o, lora, false, TrainListener.NONE, expected);
        assertTrue(r.lastLoss() < r.firstLoss());
        for (String name : expected.keySet()) {
            boolean adapter = name.contains(".lora_");
            boolean same = java.util.Arrays.equals(before.get(name), expected.get(name));
            assertEquals(!adapter, same, name + (adapter ? " should have trained" : " should be frozen"));
        }
        assertThrows(RuntimeException.class, () -> train(broken, o, lora, false, (s, t, l, lr, g, tps) -> {
            if (s == 3) {
                throw new RuntimeException("killed");
            }
        }, null));
        Map<String, float[]> resumed = new LinkedHashMap<>();
        train(broken, o, lora, true, TrainListener.NONE, resumed);
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name), resumed.get(name), name);
        }
    }
}
