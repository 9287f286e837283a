package dev.ascendj.model;

import static dev.ascendj.model.TinyLlamaFixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.io.Checkpoint;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.layers.Pass;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Identities of the model that the PyTorch fixture does not reach: batching and the chunked LM
 * head, tied embeddings, LoRA dropout (checked by a finite difference), and argument checks.
 */
class LlamaModelConsistencyTest {
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

    private static LossSum step(LlamaModel m, int[] ids, int[] targets, int batch, int seq, float scale, Pass pass) {
        try (Scope s = Scope.open()) {
            return m.forwardBackward(ops, Tensor.fromInts(dev, Shape.of(batch, seq), ids),
                    Tensor.fromInts(dev, Shape.of(batch * seq), targets), batch, seq, scale, pass);
        }
    }

    private static LossSum fixtureStep(LlamaModel m, Pass pass) {
        return step(m, fx.ids, fx.targets, fx.batch, fx.seq, 1f / fx.tokens, pass);
    }

    /** The fixture's base weights, by name, as tensors the caller (or a model) owns. */
    private static Map<String, Tensor> fixtureWeights() {
        Map<String, Tensor> w = new LinkedHashMap<>();
        try (Checkpoint ck = Checkpoint.open(TinyLlamaFixture.modelDir())) {
            for (String n : ck.names()) {
                w.put(n, Scope.untracked(() -> ck.load(n, dev)));
            }
        }
        return w;
    }

    @Test
    void aBatchIsTheSumOfItsSequencesAlsoWhenTheHeadWorksInChunks() {
        // 2 x 300 = 600 rows: the LM head's 512-row chunks split the second sequence.
        int seq = 300;
        LlamaConfig c = LlamaConfig.builder().intermediate(48).kvHeads(2).vocab(97).rmsNormEps(1e-6)
                .ropeScaling(RopeScaling.linear(2)).positions(512).build();
        SplittableRandom rnd = new SplittableRandom(17);
        int[] ids = new int[2 * seq];
        int[] targets = new int[2 * seq];
        long tokens = 0;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(97);
            targets[i] = rnd.nextInt(5) == 0 ? LlamaModel.IGNORE_INDEX : rnd.nextInt(97);
            tokens += targets[i] == LlamaModel.IGNORE_INDEX ? 0 : 1;
        }
        float scale = 1f / tokens;
        try (LlamaModel both = LlamaModel.initialize(c, dev, 4, null);
             LlamaModel each = LlamaModel.initialize(c, dev, 4, null)) {
            LossSum whole = step(both, ids, targets, 2, seq, scale, new Pass(true, 1));
            LossSum sum = LossSum.ZERO;
            for (int b = 0; b < 2; b++) {
                sum = sum.plus(step(each, java.util.Arrays.copyOfRange(ids, b * seq, (b + 1) * seq),
                        java.util.Arrays.copyOfRange(targets, b * seq, (b + 1) * seq), 1, seq, scale, new Pass(true, 1)));
            }
            assertEquals(tokens, whole.tokens());
            assertEquals(sum.tokens(), whole.tokens());
            assertClose("batched loss", whole.sum(), sum.sum(), 1e-6);
            try (Scope s = Scope.open()) {
                LossSum eval = both.loss(ops, Tensor.fromInts(dev, Shape.of(2, seq), ids),
                        Tensor.fromInts(dev, Shape.of(2 * seq), targets), 2, seq);
                assertClose("evaluation loss", eval.sum(), whole.sum(), 1e-6);
            }
            for (Parameter p : both.parameters().values()) {
                assertClose("batched grad " + p.name(), p.gradOrNull().toFloatArray(),
                        each.parameters().get(p.name()).gradOrNull().toFloatArray(), 1e-5);
            }
        }
    }

    @Test
    void aTiedHeadGetsTheSumOfBothGradients() {
        LlamaConfig untiedConfig = LlamaConfigs.read(TinyLlamaFixture.modelDir().resolve("config.json"));
        LlamaConfig tiedConfig = untiedConfig.toBuilder().tied(true).build();
        Map<String, Tensor> tiedWeights = fixtureWeights();
        tiedWeights.remove("lm_head.weight").close();
        Map<String, Tensor> untiedWeights = fixtureWeights();
        untiedWeights.get("lm_head.weight").close();
        untiedWeights.put("lm_head.weight", Scope.untracked(() -> {
            Tensor e = untiedWeights.get("model.embed_tokens.weight");
            return Tensor.fromFloats(dev, e.shape(), e.toFloatArray());
        }));
        try (LlamaModel tied = LlamaModel.fromWeights(tiedConfig, dev, tiedWeights, null, 1);
             LlamaModel untied = LlamaModel.fromWeights(untiedConfig, dev, untiedWeights, null, 1)) {
            assertEquals(untied.parameters().size() - 1, tied.parameters().size());
            assertEquals(fixtureStep(untied, new Pass(true, 1)), fixtureStep(tied, new Pass(true, 1)));
            float[] embed = untied.parameters().get("model.embed_tokens.weight").gradOrNull().toFloatArray();
            float[] head = untied.parameters().get("lm_head.weight").gradOrNull().toFloatArray();
            for (int i = 0; i < embed.length; i++) {
                embed[i] += head[i];
            }
            assertClose("tied embedding grad", tied.parameters().get("model.embed_tokens.weight").gradOrNull()
                    .toFloatArray(), embed, 1e-6);
        }
    }

    private static LlamaModel withDropout(float p) {
        LoraConfig lora = new LoraConfig(4, 8f, p, Set.of("q_proj", "v_proj", "down_proj"));
        LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, lora, 1);
        ModelFiles.loadAdapterWeights(m, TinyLlamaFixture.adapterDir());
        return m;
    }

    @Test
    void loraDropoutIsAFunctionOfThePassSeed() {
        try (LlamaModel m = withDropout(0.3f); LlamaModel recomputed = withDropout(0.3f)) {
            LossSum a = fixtureStep(m, new Pass(true, 42));
            assertNotEquals(fx.loraLoss, a.mean(), 1e-3, "dropout has no effect");
            assertNotEquals(a, fixtureStep(m, new Pass(true, 43)));
            m.zeroGrad(ops);
            assertEquals(a, fixtureStep(m, new Pass(true, 42)));
            // Recomputation draws the same masks in the backward pass.
            recomputed.setRecompute(true);
            assertEquals(a, fixtureStep(recomputed, new Pass(true, 42)));
            for (Parameter p : m.trainableParameters()) {
                assertArrayEquals(p.gradOrNull().toFloatArray(),
                        recomputed.parameters().get(p.name()).gradOrNull().toFloatArray(), p.name());
            }
            // Evaluation ignores dropout: the fixture's (dropout-free) PyTorch loss.
            try (Scope s = Scope.open()) {
                assertClose("eval loss with dropout configured", m.loss(ops, fx.idsTensor(dev), fx.targetsTensor(dev),
                        fx.batch, fx.seq).mean(), fx.loraLoss, TinyLlamaFixture.TOL);
            }
        }
    }

    @Test
    void loraDropoutGradientsMatchAFiniteDifference() {
        // d/dh L(theta + h g/|g|) at h = 0 is |g| when g is the gradient; the masks stay fixed
        // because every evaluation uses the same pass seed.
        Pass pass = new Pass(true, 42);
        try (LlamaModel m = withDropout(0.3f); Scope s = Scope.open()) {
            fixtureStep(m, pass);
            List<Parameter> ps = m.trainableParameters();
            double norm2 = 0;
            for (Parameter p : ps) {
                norm2 += ops.sumOfSquares(p.gradOrNull());
            }
            double norm = Math.sqrt(norm2);
            List<Tensor> dirs = ps.stream().map(p -> {
                float[] g = p.gradOrNull().toFloatArray();
                for (int i = 0; i < g.length; i++) {
                    g[i] /= norm;
                }
                return Tensor.fromFloats(dev, p.value().shape(), g);
            }).toList();
            // |g| is about 10: the curvature error (h^2) is 6e-2 at h = 0.02, 3e-4 at h = 0.001,
            // where FP32 noise (~1e-6 of the loss, over 2h) stays below 1e-3 as well.
            double h = 0.001;
            double[] losses = new double[2];
            for (int side = 0; side < 2; side++) {
                float move = (float) (side == 0 ? h : -2 * h);
                for (int i = 0; i < ps.size(); i++) {
                    ops.add(ps.get(i).value(), dirs.get(i), move, ps.get(i).value());
                }
                losses[side] = fixtureStep(m, pass).mean();
            }
            double fd = (losses[0] - losses[1]) / (2 * h);
            assertClose("directional derivative along the LoRA gradient", fd, norm, 1e-3);
        }
    }

    @Test
    void inputsOfTheWrongShapeAreNamed() {
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1); Scope s = Scope.open()) {
            Tensor ids = fx.idsTensor(dev);
            Tensor targets2d = Tensor.fromInts(dev, Shape.of(fx.batch, fx.seq), fx.targets);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forwardBackward(ops, ids, targets2d, fx.batch, fx.seq, 1f, new Pass(true, 1)));
            assertTrue(e.getMessage().contains("targets") && e.getMessage().contains("[14]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> m.loss(ops, ids, fx.targetsTensor(dev), fx.batch, fx.seq - 1));
            assertTrue(e.getMessage().contains("ids [2, 7]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> m.forwardBackward(ops, ids, fx.targetsTensor(dev), fx.batch, fx.seq, 1f, Pass.INFERENCE));
            assertTrue(e.getMessage().contains("training pass"), e.getMessage());
            assertTrue(m.parameters().values().stream().allMatch(p -> p.gradOrNull() == null),
                    "a refused call must not touch the gradients");
        }
    }
}
