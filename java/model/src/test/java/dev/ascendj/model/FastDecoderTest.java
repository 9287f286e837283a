package dev.ascendj.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.decode.DecodeKernels;
import dev.ascendj.model.decode.FastDecoder;
import dev.ascendj.model.decode.ScalarKernels;
import dev.ascendj.model.layers.LoraConfig;
import dev.ascendj.model.layers.Parameter;
import dev.ascendj.model.quant.Nf4Quantizer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fast decoder against the model's own forward pass (the kernel backend's operators), on the
 * PyTorch-checked fixture of {@link TinyLlamaFixture} (2 layers, grouped-query attention, linear
 * RoPE scaling, a LoRA adapter): logits of every position agree for FP32, FP16 and BF16 storage
 * and for an NF4 base with the adapter; and what one sequence computes is bit-identical however
 * rows are grouped (alone or batched, prefilled at once or token by token) and on any thread count.
 *
 * <p>Agreement with the forward pass: max |fast - forward| over a row at most 1e-5 times the
 * row's largest logit magnitude; both are FP32 with different summation orders (OpenBLAS blocks
 * against one multiply-add chain per output), which is all they differ in.
 */
class FastDecoderTest {
    private static final double TOL = 1e-5;
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

    private static LlamaModel adapted(Nf4Quantizer quantizer) {
        LoraConfig lora = ModelFiles.readAdapterConfig(TinyLlamaFixture.adapterDir());
        LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, lora, 1, quantizer);
        ModelFiles.loadAdapterWeights(m, TinyLlamaFixture.adapterDir());
        return m;
    }

    /** The fixture's base weights stored as {@code dtype}, with its adapter. */
    private static LlamaModel stored(DType dtype) {
        LoraConfig lora = ModelFiles.readAdapterConfig(TinyLlamaFixture.adapterDir());
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (LlamaModel fp32 = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1)) {
            for (Parameter p : fp32.parameters().values()) {
                weights.put(p.name(), Scope.untracked(() -> Tensor.fromFloats(dev, dtype, p.value().shape(),
                        p.value().toFloatArray())));
            }
            LlamaModel m = LlamaModel.fromWeights(fp32.config(), dev, weights, lora, 1);
            ModelFiles.loadAdapterWeights(m, TinyLlamaFixture.adapterDir());
            return m;
        }
    }

    /** Logits of every position of the fixture's sequences, each prefilled in one step. */
    private static float[][] fastLogits(FastDecoder d, int vocab) {
        float[][] out = new float[fx.batch][];
        for (int b = 0; b < fx.batch; b++) {
            FastDecoder.Slot s = d.newSlot(fx.seq);
            FastDecoder.Slot[] slots = new FastDecoder.Slot[fx.seq];
            Arrays.fill(slots, s);
            boolean[] all = new boolean[fx.seq];
            Arrays.fill(all, true);
            out[b] = d.forward(slots, Arrays.copyOfRange(fx.ids, b * fx.seq, (b + 1) * fx.seq), all, vocab);
        }
        return out;
    }

    private static void assertMatchesForward(LlamaModel m, String what) {
        int vocab = m.config().vocabSize();
        float[] ref;
        try (Scope s = Scope.open()) {
            ref = m.logits(ops, fx.idsTensor(dev), fx.batch, fx.seq).toFloatArray();
        }
        for (DecodeKernels k : new DecodeKernels[] {DecodeKernels.preferred(), new ScalarKernels()}) {
            float[][] fast = fastLogits(FastDecoder.of(m, k, 1), vocab);
            for (int b = 0; b < fx.batch; b++) {
                for (int t = 0; t < fx.seq; t++) {
                    int row = b * fx.seq + t;
                    double max = 0;
                    double err = 0;
                    for (int v = 0; v < vocab; v++) {
                        max = Math.max(max, Math.abs(ref[row * vocab + v]));
                        err = Math.max(err, Math.abs(ref[row * vocab + v] - fast[b][t * vocab + v]));
                    }
                    assertTrue(err <= TOL * max, what + " (" + k.describe() + ") sequence " + b + " position " + t
                            + ": max error " + err + " against max logit " + max);
                }
            }
        }
    }

    @Test
    void logitsMatchTheForwardPassForEveryStorageType() {
        for (DType dtype : new DType[] {DType.FP32, DType.FP16, DType.BF16}) {
            try (LlamaModel m = stored(dtype)) {
                assertMatchesForward(m, dtype + " with LoRA");
            }
        }
        try (LlamaModel m = ModelFiles.load(TinyLlamaFixture.modelDir(), dev, null, 1)) {
            assertMatchesForward(m, "FP32 without adapter");
        }
        try (LlamaModel m = adapted(new Nf4Quantizer(ops))) {
            assertTrue(m.isQuantized());
            assertMatchesForward(m, "NF4 base with LoRA");
        }
    }

    @Test
    void aSequenceComputesTheSameBitsAloneBatchedPrefilledOrStepwiseOnAnyThreadCount() {
        try (LlamaModel m = adapted(null)) {
            int vocab = m.config().vocabSize();
            float[][] alone = fastLogits(FastDecoder.of(m, DecodeKernels.preferred(), 1), vocab);
            // Token by token, both sequences interleaved in one step each, on two threads.
            FastDecoder d2 = FastDecoder.of(m, DecodeKernels.preferred(), 2);
            FastDecoder.Slot[] slots = new FastDecoder.Slot[fx.batch];
            for (int b = 0; b < fx.batch; b++) {
                slots[b] = d2.newSlot(fx.seq);
            }
            boolean[] all = new boolean[fx.batch];
            Arrays.fill(all, true);
            for (int t = 0; t < fx.seq; t++) {
                int[] column = new int[fx.batch];
                for (int b = 0; b < fx.batch; b++) {
                    column[b] = fx.ids[b * fx.seq + t];
                }
                float[] step = d2.forward(slots, column, all, vocab);
                for (int b = 0; b < fx.batch; b++) {
                    assertArrayEquals(Arrays.copyOfRange(alone[b], t * vocab, (t + 1) * vocab),
                            Arrays.copyOfRange(step, b * vocab, (b + 1) * vocab), "sequence " + b + " position " + t);
                }
            }
            // A prefix prefilled, the rest in one step with the other sequence's whole prompt, fewer logits.
            FastDecoder.Slot a = d2.newSlot(fx.seq);
            FastDecoder.Slot c = d2.newSlot(fx.seq);
            int split = 3;
            d2.forward(new FastDecoder.Slot[] {a, a, a}, Arrays.copyOfRange(fx.ids, 0, split), new boolean[3], vocab);
            int rest = fx.seq - split;
            FastDecoder.Slot[] mixed = new FastDecoder.Slot[rest + fx.seq];
            int[] tokens = new int[mixed.length];
            boolean[] want = new boolean[mixed.length];
            for (int i = 0; i < fx.seq; i++) {
                mixed[i] = c;
                tokens[i] = fx.ids[fx.seq + i];
            }
            for (int i = 0; i < rest; i++) {
                mixed[fx.seq + i] = a;
                tokens[fx.seq + i] = fx.ids[split + i];
            }
            want[fx.seq - 1] = true;
            want[mixed.length - 1] = true;
            float[] both = d2.forward(mixed, tokens, want, 50);
            assertArrayEquals(Arrays.copyOfRange(alone[1], (fx.seq - 1) * vocab, (fx.seq - 1) * vocab + 50),
                    Arrays.copyOfRange(both, 0, 50));
            assertArrayEquals(Arrays.copyOfRange(alone[0], (fx.seq - 1) * vocab, (fx.seq - 1) * vocab + 50),
                    Arrays.copyOfRange(both, 50, 100));
            assertEquals(fx.seq, a.length());
        }
    }

    @Test
    void badRowsAreRejectedWithTheRowAndTheProblem() {
        try (LlamaModel m = adapted(null)) {
            FastDecoder d = FastDecoder.of(m, 1);
            FastDecoder.Slot s = d.newSlot(2);
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> d.forward(new FastDecoder.Slot[] {s, s, s}, new int[] {1, 2, 3}, new boolean[3], 10));
            assertTrue(full.getMessage().contains("row 2: position 2 does not fit the sequence slot of 2"), full.getMessage());
            IllegalArgumentException id = assertThrows(IllegalArgumentException.class,
                    () -> d.forward(new FastDecoder.Slot[] {s}, new int[] {97}, new boolean[1], 10));
            assertTrue(id.getMessage().contains("token id 97 outside [0, 97)"), id.getMessage());
            FastDecoder other = FastDecoder.of(m, 1);
            IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                    () -> other.forward(new FastDecoder.Slot[] {s}, new int[] {1}, new boolean[1], 10));
            assertTrue(foreign.getMessage().contains("another decoder"), foreign.getMessage());
            assertThrows(IllegalArgumentException.class, () -> d.newSlot(fx.seq * 1000));
        }
    }

    @Test
    void aStepIntoTheCallersBuffersComputesTheSameLogitsAndChecksTheirRoom() {
        try (LlamaModel m = adapted(null)) {
            FastDecoder d = FastDecoder.of(m, 2);
            int vocab = m.config().vocabSize();
            int n = fx.seq;
            int[] tokens = Arrays.copyOfRange(fx.ids, 0, n);
            boolean[] want = new boolean[n];
            want[1] = true;
            want[n - 1] = true;
            FastDecoder.Slot a = d.newSlot(n);
            float[] expected = d.forward(fill(a, n), tokens, want, vocab);
            // Arrays longer than the step, with rows past it that must be ignored.
            FastDecoder.Slot b = d.newSlot(n);
            FastDecoder.Slot[] slots = Arrays.copyOf(fill(b, n), n + 2);
            int[] longTokens = Arrays.copyOf(tokens, n + 2);
            boolean[] longWant = Arrays.copyOf(want, n + 2);
            longWant[n] = true;
            float[] logits = new float[3 * vocab];
            Arrays.fill(logits, Float.NaN);
            assertEquals(2, d.forward(slots, longTokens, longWant, n, vocab, logits));
            assertArrayEquals(expected, Arrays.copyOf(logits, 2 * vocab));
            assertTrue(Float.isNaN(logits[2 * vocab]), "wrote past the wanted rows");
            assertEquals(n, b.length());
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                    () -> d.forward(new FastDecoder.Slot[] {d.newSlot(2)}, new int[] {1}, new boolean[] {true}, 1,
                            vocab, new float[vocab - 1]));
            assertTrue(small.getMessage().contains("room for " + (vocab - 1) + " logits"), small.getMessage());
        }
    }

    private static FastDecoder.Slot[] fill(FastDecoder.Slot s, int n) {
        FastDecoder.Slot[] slots = new FastDecoder.Slot[n];
        Arrays.fill(slots, s);
        return slots;
    }
}
