package dev.ascendj.ascend;

import static dev.ascendj.ascend.spi.AclnnOp.ADD;
import static dev.ascendj.ascend.spi.AclnnOp.ADDS;
import static dev.ascendj.ascend.spi.AclnnOp.APPLY_ADAM_W_V2;
import static dev.ascendj.ascend.spi.AclnnOp.CAST;
import static dev.ascendj.ascend.spi.AclnnOp.COS;
import static dev.ascendj.ascend.spi.AclnnOp.CROSS_ENTROPY_LOSS;
import static dev.ascendj.ascend.spi.AclnnOp.CROSS_ENTROPY_LOSS_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.DIV;
import static dev.ascendj.ascend.spi.AclnnOp.EXP;
import static dev.ascendj.ascend.spi.AclnnOp.FLASH_ATTENTION_SCORE;
import static dev.ascendj.ascend.spi.AclnnOp.FLASH_ATTENTION_SCORE_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_ADD;
import static dev.ascendj.ascend.spi.AclnnOp.INPLACE_FILL_SCALAR;
import static dev.ascendj.ascend.spi.AclnnOp.LOG;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX;
import static dev.ascendj.ascend.spi.AclnnOp.LOG_SOFTMAX_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.MATMUL;
import static dev.ascendj.ascend.spi.AclnnOp.MEAN;
import static dev.ascendj.ascend.spi.AclnnOp.MUL;
import static dev.ascendj.ascend.spi.AclnnOp.MULS;
import static dev.ascendj.ascend.spi.AclnnOp.NLL_LOSS;
import static dev.ascendj.ascend.spi.AclnnOp.NLL_LOSS_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.REDUCE_SUM;
import static dev.ascendj.ascend.spi.AclnnOp.RMS_NORM;
import static dev.ascendj.ascend.spi.AclnnOp.RMS_NORM_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.ROTARY_POSITION_EMBEDDING;
import static dev.ascendj.ascend.spi.AclnnOp.ROTARY_POSITION_EMBEDDING_GRAD;
import static dev.ascendj.ascend.spi.AclnnOp.RSQRT;
import static dev.ascendj.ascend.spi.AclnnOp.SILU;
import static dev.ascendj.ascend.spi.AclnnOp.SILU_BACKWARD;
import static dev.ascendj.ascend.spi.AclnnOp.SIN;
import static dev.ascendj.ascend.spi.AclnnOp.SOFTMAX;
import static dev.ascendj.ascend.spi.AclnnOp.SQRT;
import static dev.ascendj.ascend.spi.AclnnOp.SWI_GLU;
import static dev.ascendj.ascend.spi.AclnnOp.SWI_GLU_GRAD;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.ascend.FakeAclnn.Call;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Reduction;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * Which aclnn operators each kernel calls on the Atlas training series (910A, composed from
 * primitives) and on the A2 series (910B, fused), in which order, with which shapes, dtypes and
 * workspaces; and that every descriptor and temporary is released.
 */
class AscendOpsCompositionTest {

    /** Runs {@code body} on a fake NPU of {@code soc} and returns the aclnn calls it made. */
    private static List<Call> calls(String soc, BiConsumer<AscendOps, NpuDevice> body) {
        try (FakeNpu npu = new FakeNpu(soc)) {
            try (Scope s = Scope.open()) {
                NpuDevice d = npu.device();
                AscendOps ops = npu.ops();
                int before = npu.aclnn.calls.size();
                body.accept(ops, d);
                return List.copyOf(npu.aclnn.calls.subList(before, npu.aclnn.calls.size()));
            }
        }
    }

    private static List<AclnnOp> ops(List<Call> calls) {
        return calls.stream().map(Call::op).toList();
    }

    private static Tensor t(NpuDevice d, DType dt, int... dims) {
        return Tensor.zeros(d, dt, Shape.of(dims));
    }

    private static String desc(Call c, int i) {
        return String.valueOf(c.tensor(i));
    }

    // ------------------------------------------------------------------ RMSNorm

    @Test
    void rmsNormIsComposedOn910A() {
        List<Call> c = calls("Ascend910A", (ops, d) -> ops.rmsNorm(t(d, DType.FP16, 2, 3, 8), t(d, DType.FP32, 8), 1e-5f,
                t(d, DType.FP16, 2, 3, 8), t(d, DType.FP32, 2, 3)));
        assertEquals(List.of(MUL, MEAN, ADDS, RSQRT, MUL, MUL), ops(c));
        assertEquals("[2, 3, 8]:FP32", desc(c.get(0), 2), "x*x in FP32");
        assertArrayEquals(new long[] {-1}, (long[]) c.get(1).resolved().get(1), "mean over the last axis");
        assertEquals(true, c.get(1).resolved().get(2), "keepDim");
        assertEquals("[2, 3, 1]:FP32", desc(c.get(3), 1), "rstd written through a [rows, 1] view of the output");
        assertEquals("[2, 3, 8]:FP16", desc(c.get(5), 2));
    }

    @Test
    void rmsNormIsFusedOn910B() {
        List<Call> c = calls("Ascend910B2", (ops, d) -> ops.rmsNorm(t(d, DType.BF16, 2, 3, 8), t(d, DType.BF16, 8), 1e-6f,
                t(d, DType.BF16, 2, 3, 8), null));
        assertEquals(List.of(RMS_NORM), ops(c));
        assertEquals("[2, 3, 8]:BF16", desc(c.get(0), 0));
        assertEquals(1e-6f, ((Double) c.get(0).args()[2]).floatValue());
        assertEquals("[2, 3, 1]:FP32", desc(c.get(0), 4), "a temporary rstd when none is asked for");
    }

    @Test
    void rmsNormGradOn910AAnd910B() {
        BiConsumer<AscendOps, NpuDevice> grad = (ops, d) -> ops.rmsNormGrad(t(d, DType.FP32, 4, 8), t(d, DType.FP32, 4, 8),
                t(d, DType.FP32, 8), t(d, DType.FP32, 4), t(d, DType.FP32, 4, 8), t(d, DType.FP16, 8));
        assertEquals(List.of(MUL, MUL, MEAN, MUL, MUL, MUL, MUL, MUL, ADD, MUL, MUL, REDUCE_SUM), ops(calls("Ascend910A", grad)));
        List<Call> b = calls("Ascend910B1", grad);
        assertEquals(List.of(RMS_NORM_GRAD, CAST), ops(b), "FP32 dgamma from the operator, cast to the FP16 dWeight");
        assertEquals("[8]:FP32", desc(b.get(0), 5));
        assertEquals("[8]:FP16", desc(b.get(1), 2));
    }

    // ------------------------------------------------------------------ rotary embedding

    @Test
    void rotaryEmbeddingIsComposedOn910AFromHalfWidthTables() {
        List<Call> c = calls("Ascend910A", (ops, d) -> ops.rotaryPositionEmbedding(t(d, DType.FP16, 1, 5, 2, 8),
                Tensor.fromInts(d, Shape.of(5), 0, 1, 2, 3, 4), 10000f, 1f, t(d, DType.FP16, 1, 5, 2, 8)));
        assertEquals(List.of(CAST, MUL, COS, SIN, MUL, MUL, MUL, MUL, ADD, ADD), ops(c));
        assertEquals("[5, 4]:FP32", desc(c.get(2), 1), "cos of [S, D/2] angles");
        assertEquals("[1, 5, 2, 4]:FP16", desc(c.get(4), 0), "first half of x, a strided view");
        assertEquals("[1, 5, 1, 4]:FP32", desc(c.get(4), 1), "cos broadcast over batch and heads");
        assertEquals(-1.0, ((FakeAclnn.Scalar) c.get(8).resolved().get(2)).value(), "x1 cos - x2 sin");
    }

    @Test
    void rotaryEmbeddingIsFusedOn910BInHalfMode() {
        List<Call> c = calls("Ascend910B3", (ops, d) -> {
            Tensor x = t(d, DType.FP16, 2, 5, 2, 8);
            ops.rotaryPositionEmbedding(x, t(d, DType.INT64, 2, 5), 10000f, 4f, x); // in place
        });
        assertEquals(List.of(CAST, MUL, COS, SIN, CAST, CAST, ROTARY_POSITION_EMBEDDING, AclnnOp.INPLACE_COPY), ops(c));
        Call rope = c.get(6);
        assertEquals("[2, 5, 1, 8]:FP16", desc(rope, 1), "full-width cos per batch element, in x's dtype");
        assertEquals(0L, rope.args()[3], "mode 0: rotate half");
        assertEquals("[2, 5, 2, 8]:FP16", desc(rope, 4), "an aliased output goes through a temporary");
        List<Call> g = calls("Ascend910B3", (ops, d) -> ops.rotaryPositionEmbeddingGrad(t(d, DType.FP32, 1, 5, 2, 8),
                t(d, DType.INT32, 5), 10000f, 1f, t(d, DType.FP32, 1, 5, 2, 8)));
        assertEquals(ROTARY_POSITION_EMBEDDING_GRAD, g.get(g.size() - 1).op());
        assertNull(g.get(g.size() - 1).args()[3], "no x: dcos and dsin are not needed");
    }

    // ------------------------------------------------------------------ attention

    @Test
    void attentionIsComposedOn910AWithFp16Matmuls() {
        List<Call> c = calls("Ascend910A", (ops, d) -> ops.flashAttentionScore(t(d, DType.FP32, 2, 4, 4, 8),
                t(d, DType.FP32, 2, 6, 2, 8), t(d, DType.FP32, 2, 6, 2, 8), 0.35f, true, t(d, DType.FP32, 2, 4, 4, 8),
                t(d, DType.FP32, 2, 4, 4)));
        List<AclnnOp> perBatch = List.of(CAST, CAST, CAST, MATMUL, MULS, ADD, SOFTMAX, LOG_SOFTMAX, ADD, CAST, MATMUL, CAST);
        assertEquals(perBatch.size() * 2, c.size(), "one pass per batch element");
        assertEquals(perBatch, ops(c.subList(0, perBatch.size())));
        for (Call m : c) {
            if (m.op() == MATMUL) {
                assertEquals("FP16", FakeAclnn.dtypeName(m.tensor(0).dtype()));
                assertEquals("FP16", FakeAclnn.dtypeName(m.tensor(1).dtype()));
            }
        }
        assertEquals("[1, 2, 2, 4, 8]:FP16", desc(c.get(0), 2), "q as [1, G, H/G, Sq, D]");
        assertEquals("[1, 2, 1, 8, 6]:FP16", desc(c.get(3), 1), "k transposed, broadcast over the group");
        assertEquals("[4, 6]:FP32", desc(c.get(5), 1), "the causal mask");
    }

    @Test
    void attentionIsFusedOn910BWithBsndLayout() {
        List<Call> c = calls("Ascend910B2", (ops, d) -> ops.flashAttentionScore(t(d, DType.BF16, 1, 4, 4, 8),
                t(d, DType.BF16, 1, 4, 2, 8), t(d, DType.BF16, 1, 4, 2, 8), 0.35f, true, t(d, DType.BF16, 1, 4, 4, 8),
                t(d, DType.FP32, 1, 4, 4)));
        assertEquals(List.of(FLASH_ATTENTION_SCORE, LOG, ADD), ops(c));
        Object[] a = c.get(0).args();
        assertEquals("BSND", a[13]);
        assertEquals(4L, a[12], "headNum");
        assertEquals("[4, 4]:UINT8", desc(c.get(0), 6), "causal mask");
        assertEquals(0L, a[15], "sparse mode 0 with an explicit mask");
        assertEquals(0.35f, ((Double) a[8]).floatValue());
        assertEquals("[1, 4, 4, 8]:FP32", desc(c.get(0), 16), "softmax max statistics");
    }

    @Test
    void attentionBackwardOn910AAnd910B() {
        BiConsumer<AscendOps, NpuDevice> grad = (ops, d) -> ops.flashAttentionScoreGrad(t(d, DType.FP16, 1, 3, 2, 4),
                t(d, DType.FP16, 1, 3, 2, 4), t(d, DType.FP16, 1, 3, 1, 4), t(d, DType.FP16, 1, 3, 1, 4),
                t(d, DType.FP16, 1, 3, 2, 4), t(d, DType.FP32, 1, 2, 3), 0.5f, false, t(d, DType.FP16, 1, 3, 2, 4),
                t(d, DType.FP16, 1, 3, 1, 4), t(d, DType.FP16, 1, 3, 1, 4));
        List<AclnnOp> a = ops(calls("Ascend910A", grad));
        assertEquals(List.of(CAST, CAST, CAST, CAST, MATMUL, MULS, ADD, EXP, CAST, MATMUL, CAST, MATMUL, MUL, REDUCE_SUM,
                ADD, MUL, MULS, MATMUL, CAST, MATMUL, CAST), a);
        List<Call> b = calls("Ascend910B4", grad);
        assertEquals(List.of(CAST, INPLACE_FILL_SCALAR, FLASH_ATTENTION_SCORE_GRAD), ops(b));
        assertEquals("[1, 2, 3, 8]:FP32", desc(b.get(0), 2), "lse broadcast into the max statistics");
        assertNull(b.get(2).args()[7], "no mask when not causal");
    }

    // ------------------------------------------------------------------ SwiGLU

    @Test
    void swiGluIsFusedOn910BOnlyWhenGateAndUpAreHalvesOfOneBuffer() {
        List<Call> fused = calls("Ascend910B2", (ops, d) -> {
            Tensor gateUp = t(d, DType.FP16, 3, 16);
            ops.swiGlu(gateUp.slice(1, 0, 8), gateUp.slice(1, 8, 16), t(d, DType.FP16, 3, 8));
        });
        assertEquals(List.of(SWI_GLU), ops(fused));
        assertEquals("[3, 16]:FP16", desc(fused.get(0), 0));
        assertEquals(-1L, fused.get(0).args()[1]);
        List<Call> separate = calls("Ascend910B2", (ops, d) -> ops.swiGlu(t(d, DType.FP16, 3, 8), t(d, DType.FP16, 3, 8),
                t(d, DType.FP16, 3, 8)));
        assertEquals(List.of(SILU, MUL), ops(separate));
        List<Call> a = calls("Ascend910A", (ops, d) -> {
            Tensor gateUp = t(d, DType.FP16, 3, 16);
            ops.swiGlu(gateUp.slice(1, 0, 8), gateUp.slice(1, 8, 16), t(d, DType.FP16, 3, 8));
        });
        assertEquals(List.of(SILU, MUL), ops(a));
    }

    @Test
    void swiGluGradOn910AAnd910B() {
        BiConsumer<AscendOps, NpuDevice> grad = (ops, d) -> {
            Tensor x = t(d, DType.FP32, 2, 8);
            Tensor dx = t(d, DType.FP32, 2, 8);
            ops.swiGluGrad(t(d, DType.FP32, 2, 4), x.slice(1, 0, 4), x.slice(1, 4, 8), dx.slice(1, 0, 4), dx.slice(1, 4, 8));
        };
        assertEquals(List.of(SILU, MUL, MUL, SILU_BACKWARD), ops(calls("Ascend910A", grad)));
        List<Call> b = calls("Ascend910B2", grad);
        assertEquals(List.of(SWI_GLU_GRAD), ops(b));
        assertEquals("[2, 8]:FP32", desc(b.get(0), 3));
    }

    // ------------------------------------------------------------------ cross-entropy

    @Test
    void crossEntropyIsLogSoftmaxAndNllLossOn910A() {
        List<Call> c = calls("Ascend910A", (ops, d) -> assertEquals(2, ops.crossEntropyLoss(t(d, DType.FP16, 3, 10),
                Tensor.fromLongs(d, Shape.of(3), 1, -100, 4), -100, Reduction.MEAN, t(d, DType.FP32, 1),
                t(d, DType.FP32, 3))));
        assertEquals(List.of(LOG_SOFTMAX, NLL_LOSS, ADD), ops(c));
        assertEquals(1L, c.get(1).args()[3], "reduction mean");
        assertEquals(-100L, c.get(1).args()[4]);
        assertEquals("[10]:FP32", desc(c.get(1), 2), "unit class weights");
        assertEquals("[]:FP32", desc(c.get(1), 5), "a scalar loss view of the one-element output");
    }

    @Test
    void crossEntropyIsFusedOn910B() {
        List<Call> c = calls("Ascend910B2", (ops, d) -> ops.crossEntropyLoss(t(d, DType.BF16, 3, 10),
                Tensor.fromInts(d, Shape.of(3), 1, 2, 4), -100, Reduction.SUM, t(d, DType.FP32, 1), null));
        assertEquals(List.of(CROSS_ENTROPY_LOSS), ops(c));
        assertEquals("sum", c.get(0).args()[3]);
        assertEquals(false, c.get(0).args()[7], "no z-loss");
    }

    @Test
    void crossEntropyGradOn910AAnd910B() {
        BiConsumer<AscendOps, NpuDevice> grad = (ops, d) -> ops.crossEntropyLossGrad(t(d, DType.FP32, 3, 10),
                Tensor.fromInts(d, Shape.of(3), 1, 2, 4), t(d, DType.FP32, 3), -100, Reduction.MEAN, 0.5f,
                t(d, DType.FP32, 3, 10));
        assertEquals(List.of(ADD, INPLACE_FILL_SCALAR, INPLACE_FILL_SCALAR, NLL_LOSS_BACKWARD, LOG_SOFTMAX_BACKWARD),
                ops(calls("Ascend910A", grad)));
        List<Call> b = calls("Ascend910B2", grad);
        // the fused gradient takes INT64 targets only: the INT32 labels are cast first
        assertEquals(List.of(ADD, INPLACE_FILL_SCALAR, CAST, CROSS_ENTROPY_LOSS_GRAD), ops(b));
        assertEquals("mean", b.get(3).args()[6]);
        assertEquals("INT64", FakeAclnn.dtypeName(b.get(3).tensor(2).dtype()));
        assertEquals("FP32", FakeAclnn.dtypeName(b.get(3).tensor(0).dtype()), "gradLoss has the output's dtype");
    }

    // ------------------------------------------------------------------ AdamW and matmul

    @Test
    void adamWIsComposedOn910AAndFusedOn910B() {
        BiConsumer<AscendOps, NpuDevice> step = (ops, d) -> ops.applyAdamW(t(d, DType.FP32, 16), t(d, DType.FP32, 16),
                t(d, DType.FP32, 16), t(d, DType.FP32, 16), 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 3);
        assertEquals(List.of(MULS, ADD, MUL, MULS, ADD, MULS, SQRT, ADDS, DIV, MULS, ADD), ops(calls("Ascend910A", step)));
        List<Call> b = calls("Ascend910B2", step);
        assertEquals(List.of(INPLACE_FILL_SCALAR, APPLY_ADAM_W_V2), ops(b));
        Object[] a = b.get(1).args();
        assertEquals(List.of(1e-3f, 0.9f, 0.95f, 0.1f, 1e-8f), List.of(a[6], a[7], a[8], a[9], a[10]),
                "lr, beta1, beta2, weight decay, eps in the operator's order");
        List<Call> mixed = calls("Ascend910B2", (ops, d) -> ops.applyAdamW(t(d, DType.FP16, 16), t(d, DType.FP16, 16),
                t(d, DType.FP32, 16), t(d, DType.FP32, 16), 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 3));
        assertFalse(ops(mixed).contains(APPLY_ADAM_W_V2), "FP16 parameters with FP32 moments are composed");
    }

    @Test
    void matmulLetsThe910ACubeComputeFp32InFp16() {
        List<Call> a = calls("Ascend910A", (ops, d) -> ops.matmul(t(d, DType.FP32, 4, 8), false, t(d, DType.FP32, 6, 8),
                true, t(d, DType.FP32, 4, 6), 1f, 0f));
        assertEquals(List.of(MATMUL), ops(a));
        assertEquals((byte) 1, a.get(0).args()[3], "ALLOW_FP32_DOWN_PRECISION");
        assertEquals("[8, 6]:FP32", desc(a.get(0), 1), "b transposed as a view");
        List<Call> b = calls("Ascend910B2", (ops, d) -> ops.matmul(t(d, DType.FP32, 4, 8), false, t(d, DType.FP32, 8, 6),
                false, t(d, DType.FP32, 4, 6), 1f, 0f));
        assertEquals((byte) 0, b.get(0).args()[3], "KEEP_DTYPE");
        List<Call> acc = calls("Ascend910B2", (ops, d) -> ops.matmul(t(d, DType.FP32, 4, 8), false, t(d, DType.FP32, 8, 6),
                false, t(d, DType.FP32, 4, 6), 2f, 1f));
        assertEquals(List.of(MATMUL, INPLACE_ADD), ops(acc), "gradient accumulation");
    }

    @Test
    void bf16IsRejectedOnThe910A() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            KernelException e = assertThrows(KernelException.class, () -> npu.ops().muls(t(d, DType.BF16, 2), 2f,
                    t(d, DType.BF16, 2)));
            assertTrue(e.getMessage().contains("Ascend910A has no BF16"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ workspaces, errors, lifetimes

    @Test
    void workspacesArePooledPerStreamAndPassedToTheOperator() {
        try (FakeNpu npu = FakeNpu.b910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            npu.aclnn.workspaceSizes.put(MATMUL, 4096L);
            npu.aclnn.workspaceSizes.put(AclnnOp.MULS, 1000L);
            AscendOps ops = npu.ops();
            Tensor a = t(d, DType.FP32, 4, 4);
            int mallocs = npu.acl.calls("aclrtMalloc").size();
            for (int i = 0; i < 3; i++) {
                ops.matmul(a, false, a, false, t(d, DType.FP32, 4, 4), 1f, 0f);
                ops.muls(a, 2f, t(d, DType.FP32, 4, 4));
            }
            List<String> workspaceMallocs = npu.acl.calls("aclrtMalloc").subList(mallocs, npu.acl.calls("aclrtMalloc").size())
                    .stream().filter(e -> e.equals("aclrtMalloc 4096")).toList();
            assertEquals(1, workspaceMallocs.size(), "one workspace block reused by every operator");
            assertEquals(4096, d.defaultStream().workspaceBytes());
            npu.aclnn.workspaceSizes.put(MATMUL, 5000L);
            ops.matmul(a, false, a, false, t(d, DType.FP32, 4, 4), 1f, 0f);
            assertEquals(6144, d.defaultStream().workspaceBytes(), "grown by half at least");
        }
    }

    @Test
    void anOperatorFailureBecomesAnAclExceptionAndReleasesWhatTheCallCreated() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            npu.aclnn.failures.put(RSQRT, 161002);
            npu.acl.errorMessage = "EZ1001: rsqrt: self dtype not supported";
            AclException e = assertThrows(AclException.class, () -> npu.ops().rmsNorm(t(d, DType.FP32, 2, 4),
                    t(d, DType.FP32, 4), 1e-5f, t(d, DType.FP32, 2, 4), null));
            assertEquals("aclnnRsqrtGetWorkspaceSize", e.call());
            assertEquals("ACLNN_ERR_PARAM_INVALID", e.codeName());
            assertTrue(e.getMessage().endsWith("EZ1001: rsqrt: self dtype not supported"), e.getMessage());
            assertEquals(0, npu.aclnn.liveDescriptors(), "descriptors destroyed on the failure path");
            assertTrue(d.deferredBytes() > 0, "temporaries released (freed at the next synchronisation)");
        }
    }

    @Test
    void hostReadsOfReductionsWaitForTheStream() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            Tensor x = Tensor.fromFloats(d, Shape.of(3), 1, 2, 3);
            npu.acl.log.clear();
            assertEquals(14.0, npu.ops().sumOfSquares(x), 1e-6);
            long st = d.defaultStream().handle();
            int reduce = npu.acl.log.indexOf("aclnnReduceSum " + st);
            int copy = npu.acl.log.indexOf("aclrtMemcpyAsync D2H 4 " + st);
            int sync = npu.acl.log.lastIndexOf("aclrtSynchronizeStream " + st);
            assertTrue(reduce >= 0 && copy > reduce && sync > copy, npu.acl.log.toString());
        }
    }

    @Test
    void kernelsRejectTensorsOfAnotherDevice() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            Tensor other = t(npu.backend.device(1), DType.FP32, 2);
            KernelException e = assertThrows(KernelException.class, () -> npu.ops().muls(other, 1f, other));
            assertTrue(e.getMessage().contains("npu:1"), e.getMessage());
        }
    }

    @Test
    void shapeErrorsNameTheKernelAndTheTensors() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            KernelException e = assertThrows(KernelException.class, () -> npu.ops().matmul(t(d, DType.FP32, 2, 3), false,
                    t(d, DType.FP32, 4, 5), false, t(d, DType.FP32, 2, 5), 1f, 0f));
            assertEquals("matmul", e.kernel());
            assertTrue(e.getMessage().contains("a[2, 3]") && e.getMessage().contains("inner dimensions 3 and 4"),
                    e.getMessage());
        }
    }
}
