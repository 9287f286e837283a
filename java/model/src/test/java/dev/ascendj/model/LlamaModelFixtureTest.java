package dev.ascendj.model;

import static dev.ascendj.model.TinyLlamaFixture.TOL;
import static dev.ascendj.model.TinyLlamaFixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.layers.KvCache;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Pass;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LlamaModel against PyTorch: the fixture of {@link TinyLlamaFixture} loaded through
 * {@link ModelFiles}, with logits, losses and every gradient compared (criterion and tolerance in
 * {@link TinyLlamaFixture}).
 */
class LlamaModelFixtureTest {
    private static CpuBackend backend;
    private static Device dev;
    private static Ops ops;
    private static TinyLlamaFixture fx;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(1);
        dev = backend.device(0);
        ops = backend.ops(dev.defaultStream());
        fx = TinyLlamaFixture.load(dev);
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static LlamaModel base() {
        return ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1);
    }

    private static LlamaModel adapted() {
        LoraConfig lora = ModelFiles.readAdapterConfig(TinyLlamaFixture.adapterDir());
        LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, lora, 1);
        ModelFiles.loadAdapterWeights(m, TinyLlamaFixture.adapterDir());
        return m;
    }

    private static LossSum step(LlamaModel m, Pass pass) {
        try (Scope s = Scope.open()) {
            return m.forwardBackward(ops, fx.idsTensor(dev), fx.targetsTensor(dev), fx.batch, fx.seq,
                    1f / fx.tokens, pass);
        }
    }

    private static float[] logits(LlamaModel m) {
        try (Scope s = Scope.open()) {
            return m.logits(ops, fx.idsTensor(dev), fx.batch, fx.seq).toFloatArray();
        }
    }

    @Test
    void configIsReadAsWritten() {
        LlamaConfig c = LlamaConfigs.read(TinyLlamaFixture.modelDir().resolve("config.json"));
        assertEquals(LlamaConfig.builder().intermediate(48).kvHeads(2).vocab(97).rmsNormEps(1e-6)
                .ropeScaling(RopeScaling.linear(2)).build(), c);
    }

    @Test
    void logitsMatchPyTorch() {
        try (LlamaModel m = base()) {
            assertClose("logits", logits(m), fx.expected("logits"), TOL);
        }
    }

    @Test
    void lossMatchesPyTorch() {
        try (LlamaModel m = base(); Scope s = Scope.open()) {
            LossSum loss = m.loss(ops, fx.idsTensor(dev), fx.targetsTensor(dev), fx.batch, fx.seq);
            assertEquals(fx.tokens, loss.tokens());
            assertClose("loss", loss.mean(), fx.loss, TOL);
        }
    }

    @Test
    void everyGradientMatchesPyTorch() {
        try (LlamaModel m = base()) {
            LossSum loss = step(m, new Pass(true, 7));
            assertEquals(fx.tokens, loss.tokens());
            assertClose("forwardBackward loss", loss.mean(), fx.loss, TOL);
            assertEquals(fx.baseGradCount(), m.parameters().size(), "one expected gradient per parameter");
            double worst = 0;
            for (Parameter p : m.parameters().values()) {
                assertTrue(p.trainable(), p.name());
                assertNotNull(p.gradOrNull(), "no gradient for " + p.name());
                worst = Math.max(worst, assertClose("grad " + p.name(), p.gradOrNull().toFloatArray(),
                        fx.expectedGrad(p.name(), p.value().shape()), TOL));
            }
            assertTrue(worst > 0, "an exact match of every FP32 gradient would mean the comparison is vacuous");
        }
    }

    @Test
    void gradientsAccumulateOverTwoPasses() {
        try (LlamaModel m = base()) {
            step(m, new Pass(true, 7));
            step(m, new Pass(true, 8));
            for (Parameter p : m.parameters().values()) {
                float[] twice = fx.expectedGrad(p.name(), p.value().shape()).clone();
                for (int i = 0; i < twice.length; i++) {
                    twice[i] *= 2;
                }
                assertClose("2x grad " + p.name(), p.gradOrNull().toFloatArray(), twice, TOL);
            }
            m.zeroGrad(ops);
            for (Parameter p : m.parameters().values()) {
                assertClose("zeroed " + p.name(), p.gradOrNull().toFloatArray(), new float[(int) p.numel()], 0);
            }
        }
    }

    @Test
    void recomputationGivesIdenticalGradients() {
        try (LlamaModel plain = base(); LlamaModel recomputed = base()) {
            recomputed.setRecompute(true);
            LossSum a = step(plain, new Pass(true, 3));
            LossSum b = step(recomputed, new Pass(true, 3));
            assertEquals(a, b);
            for (Parameter p : plain.parameters().values()) {
                assertArrayEquals(p.gradOrNull().toFloatArray(),
                        recomputed.parameters().get(p.name()).gradOrNull().toFloatArray(), p.name());
            }
        }
    }

    @Test
    void loraMatchesPyTorch() {
        try (LlamaModel m = adapted()) {
            LoraConfig lora = m.lora();
            assertEquals(new LoraConfig(4, 8f, 0f, Set.of("q_proj", "v_proj", "down_proj")), lora);
            assertClose("lora logits", logits(m), fx.expected("lora.logits"), TOL);
            LossSum loss = step(m, new Pass(true, 11));
            assertEquals(fx.tokens, loss.tokens());
            assertClose("lora loss", loss.mean(), fx.loraLoss, TOL);
            List<Parameter> trainable = m.trainableParameters();
            assertEquals(fx.loraGradCount(), trainable.size(), "one expected gradient per adapter matrix");
            for (Parameter p : m.parameters().values()) {
                if (p.trainable()) {
                    assertTrue(p.name().contains(".lora_"), p.name());
                    assertClose("lora grad " + p.name(), p.gradOrNull().toFloatArray(),
                            fx.expected("lora.grad." + p.name()), TOL);
                } else {
                    assertNull(p.gradOrNull(), "frozen " + p.name() + " got a gradient");
                }
            }
        }
    }

    @Test
    void loraRecomputationGivesIdenticalGradients() {
        try (LlamaModel plain = adapted(); LlamaModel recomputed = adapted()) {
            recomputed.setRecompute(true);
            assertEquals(step(plain, new Pass(true, 5)), step(recomputed, new Pass(true, 5)));
            for (Parameter p : plain.trainableParameters()) {
                assertArrayEquals(p.gradOrNull().toFloatArray(),
                        recomputed.parameters().get(p.name()).gradOrNull().toFloatArray(), p.name());
            }
        }
    }

    @Test
    void cachedGenerationTokenByTokenEqualsTheFullForward() {
        try (LlamaModel m = base()) {
            float[] full = logits(m);
            float[] torch = fx.expected("logits");
            int vocab = m.config().vocabSize();
            List<KvCache> caches = m.newCaches(fx.batch, fx.seq);
            try {
                for (int t = 0; t < fx.seq; t++) {
                    int[] column = new int[fx.batch];
                    for (int b = 0; b < fx.batch; b++) {
                        column[b] = fx.ids[b * fx.seq + t];
                    }
                    try (Scope s = Scope.open()) {
                        float[] next = m.nextTokenLogits(ops, Tensor.fromInts(dev, Shape.of(fx.batch, 1), column),
                                fx.batch, 1, caches).toFloatArray();
                        assertEquals(t + 1, caches.get(0).length());
                        for (int b = 0; b < fx.batch; b++) {
                            float[] got = Arrays.copyOfRange(next, b * vocab, (b + 1) * vocab);
                            int row = b * fx.seq + t;
                            assertClose("cached step " + t + " seq " + b + " vs full forward", got,
                                    Arrays.copyOfRange(full, row * vocab, (row + 1) * vocab), 1e-5);
                            assertClose("cached step " + t + " seq " + b + " vs PyTorch", got,
                                    Arrays.copyOfRange(torch, row * vocab, (row + 1) * vocab), TOL);
                        }
                    }
                }
                try (Scope s = Scope.open()) {
                    Tensor one = Tensor.fromInts(dev, Shape.of(fx.batch, 1), new int[fx.batch]);
                    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class, () -> m.nextTokenLogits(ops, one, fx.batch, 1, caches));
                    assertTrue(e.getMessage().contains("full"), e.getMessage());
                    // After a reset the caches serve a new prompt as if fresh.
                    caches.forEach(KvCache::reset);
                    float[] again = m.nextTokenLogits(ops, fx.idsTensor(dev), fx.batch, fx.seq, caches).toFloatArray();
                    for (int b = 0; b < fx.batch; b++) {
                        int row = b * fx.seq + fx.seq - 1;
                        assertClose("after reset seq " + b, Arrays.copyOfRange(again, b * vocab, (b + 1) * vocab),
                                Arrays.copyOfRange(full, row * vocab, (row + 1) * vocab), 1e-5);
                    }
                }
            } finally {
                caches.forEach(KvCache::close);
            }
        }
    }

    @Test
    void cachedGenerationAfterAPromptEqualsTheFullForward() {
        // A 4-token prompt in one call, then the rest token by token: the prompt's own causal mask
        // and the offset mask of later single-token queries must agree with the full forward.
        try (LlamaModel m = base()) {
            float[] torch = fx.expected("logits");
            int vocab = m.config().vocabSize();
            int prompt = 4;
            List<KvCache> caches = m.newCaches(fx.batch, fx.seq);
            try (Scope s = Scope.open()) {
                int[] head = new int[fx.batch * prompt];
                for (int b = 0; b < fx.batch; b++) {
                    System.arraycopy(fx.ids, b * fx.seq, head, b * prompt, prompt);
                }
                float[] first = m.nextTokenLogits(ops, Tensor.fromInts(dev, Shape.of(fx.batch, prompt), head),
                        fx.batch, prompt, caches).toFloatArray();
                for (int b = 0; b < fx.batch; b++) {
                    int row = b * fx.seq + prompt - 1;
                    assertClose("prompt seq " + b, Arrays.copyOfRange(first, b * vocab, (b + 1) * vocab),
                            Arrays.copyOfRange(torch, row * vocab, (row + 1) * vocab), TOL);
                }
                for (int t = prompt; t < fx.seq; t++) {
                    int[] column = {fx.ids[t], fx.ids[fx.seq + t]};
                    float[] next = m.nextTokenLogits(ops, Tensor.fromInts(dev, Shape.of(fx.batch, 1), column),
                            fx.batch, 1, caches).toFloatArray();
                    for (int b = 0; b < fx.batch; b++) {
                        int row = b * fx.seq + t;
                        assertClose("step " + t + " seq " + b, Arrays.copyOfRange(next, b * vocab, (b + 1) * vocab),
                                Arrays.copyOfRange(torch, row * vocab, (row + 1) * vocab), TOL);
                    }
                }
            } finally {
                caches.forEach(KvCache::close);
            }
        }
    }

    @Test
    void cachedGenerationWithAdaptersMatchesPyTorch() {
        try (LlamaModel m = adapted()) {
            float[] torch = fx.expected("lora.logits");
            int vocab = m.config().vocabSize();
            List<KvCache> caches = m.newCaches(fx.batch, fx.seq);
            try (Scope s = Scope.open()) {
                for (int t = 0; t < fx.seq; t++) {
                    int[] column = {fx.ids[t], fx.ids[fx.seq + t]};
                    float[] next = m.nextTokenLogits(ops, Tensor.fromInts(dev, Shape.of(fx.batch, 1), column),
                            fx.batch, 1, caches).toFloatArray();
                    for (int b = 0; b < fx.batch; b++) {
                        int row = b * fx.seq + t;
                        assertClose("lora step " + t + " seq " + b,
                                Arrays.copyOfRange(next, b * vocab, (b + 1) * vocab),
                                Arrays.copyOfRange(torch, row * vocab, (row + 1) * vocab), TOL);
                    }
                }
            } finally {
                caches.forEach(KvCache::close);
            }
        }
    }

    @Test
    void theLoadedWeightsAreThoseOfTheFile() {
        try (LlamaModel m = base();
             Checkpoint ck = Checkpoint.open(TinyLlamaFixture.modelDir());
             Scope s = Scope.open()) {
            assertEquals(ck.names(), new TreeSet<>(m.parameters().keySet()));
            for (Map.Entry<String, Parameter> e : m.parameters().entrySet()) {
                assertArrayEquals(ck.load(e.getKey(), dev).toFloatArray(), e.getValue().value().toFloatArray(),
                        e.getKey());
            }
        }
    }
}
