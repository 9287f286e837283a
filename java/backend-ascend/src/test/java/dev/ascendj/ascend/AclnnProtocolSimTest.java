package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.global.aclnn;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The aclnn two-phase protocol through {@code JavaCppAclnnApi}, the JNI glue and the simulated
 * CANN: out-parameters (workspace size, executor), int64 arrays (dims, strides, axes), scalars of
 * every dtype, strings (layouts, reductions) and handles all cross the JNI boundary for real, and
 * the simulator holds them to the documented protocol (workspace at least the size asked for,
 * executors used once, descriptors alive until phase 2).
 */
class AclnnProtocolSimTest {
    private AscendBackend npu;
    private NpuDevice dev;
    private AclnnApi api;
    private AclApi acl;
    private Scope scope;

    @BeforeEach
    void open() {
        npu = SimulatedCann.backend();
        dev = npu.device(0);
        api = npu.aclnn();
        acl = npu.acl();
        scope = Scope.open();
        dev.makeCurrent();
    }

    @AfterEach
    void close() {
        if (scope != null) {
            scope.close();
        }
    }

    private long tensor(Tensor t) {
        TensorRef r = TensorRef.of(t);
        long h = api.createTensor(r.dims(), AclDataTypes.of(r.dtype()), r.strides(), r.offset(), AclTensor.FORMAT_ND,
                new long[] {r.storageElements()}, r.base());
        assertNotEquals(0, h, () -> "aclCreateTensor failed: " + acl.recentErrMsg());
        return h;
    }

    /** Phase 1 of Add(a, b, 1, out); returns {workspace size, executor}. */
    private long[] prepareAdd(long a, long b, long out) {
        long alpha = api.createScalar(1, AclDataTypes.of(DType.FP32));
        long[] ws = new long[1];
        long[] exec = new long[1];
        assertEquals(0, api.getWorkspaceSize(AclnnOp.ADD, new Object[] {a, b, alpha, out}, ws, exec));
        assertEquals(0, api.destroyScalar(alpha));
        assertNotEquals(0, exec[0], "the executor out-parameter was written");
        return new long[] {ws[0], exec[0]};
    }

    @Test
    void anOperatorRunsThroughBothPhasesWithStridedViewsAndAScalar() {
        Tensor x = Tensor.fromFloats(dev, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor y = Tensor.empty(dev, DType.FP32, Shape.of(3, 2));
        // x transposed, as a strided view: dims {3, 2}, strides {1, 3}
        long xt = api.createTensor(new long[] {3, 2}, AclDataTypes.of(DType.FP32), new long[] {1, 3}, 0,
                AclTensor.FORMAT_ND, new long[] {6}, TensorRef.of(x).base());
        long out = tensor(y);
        long two = api.createScalar(-2.5, AclDataTypes.of(DType.FP16));
        long[] ws = new long[1];
        long[] exec = new long[1];
        assertEquals(0, api.getWorkspaceSize(AclnnOp.MULS, new Object[] {xt, two, out}, ws, exec));
        assertEquals(0, api.execute(AclnnOp.MULS, 0, ws[0], exec[0], dev.defaultStream().handle()));
        assertEquals(0, api.destroyTensor(xt));
        assertEquals(0, api.destroyTensor(out));
        assertEquals(0, api.destroyScalar(two));
        assertArrayEquals(new float[] {-2.5f, -10, -5, -12.5f, -7.5f, -15}, y.toFloatArray());
    }

    @Test
    void aMatmulAsksForAWorkspaceAndASmallerOneIsRefused() {
        Tensor a = Tensor.fromFloats(dev, DType.FP16, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = Tensor.fromFloats(dev, DType.FP16, Shape.of(3, 2), 1, 0, 0, 1, 1, 1);
        Tensor c = Tensor.empty(dev, DType.FP16, Shape.of(2, 2));
        long ta = tensor(a);
        long tb = tensor(b);
        long tc = tensor(c);
        long[] ws = new long[1];
        long[] exec = new long[1];
        assertEquals(0, api.getWorkspaceSize(AclnnOp.MATMUL, new Object[] {ta, tb, tc, (byte) 1}, ws, exec));
        assertTrue(ws[0] > 0, "the workspace size out-parameter: " + ws[0]);
        long workspace = dev.allocateRaw(ws[0]);
        try {
            assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, api.execute(AclnnOp.MATMUL, workspace, ws[0] - 1, exec[0],
                    dev.defaultStream().handle()));
            assertTrue(acl.recentErrMsg().contains("asked for " + ws[0]));
            assertEquals(0, api.execute(AclnnOp.MATMUL, workspace, ws[0], exec[0], dev.defaultStream().handle()));
            assertArrayEquals(new float[] {4, 5, 10, 11}, c.toFloatArray());
        } finally {
            dev.release(workspace, ws[0]);
        }
        api.destroyTensor(ta);
        api.destroyTensor(tb);
        api.destroyTensor(tc);
    }

    @Test
    void anExecutorRunsOnceUnlessMadeRepeatable() {
        Tensor a = Tensor.fromFloats(dev, Shape.of(2), 1, 2);
        long ta = tensor(a);
        long[] p = prepareAdd(ta, ta, ta);
        long stream = dev.defaultStream().handle();
        assertEquals(0, api.execute(AclnnOp.ADD, 0, p[0], p[1], stream));
        assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, api.execute(AclnnOp.ADD, 0, p[0], p[1], stream));
        assertTrue(acl.recentErrMsg().contains("already run"));
        assertArrayEquals(new float[] {2, 4}, a.toFloatArray(), "it ran once");
        api.destroyTensor(ta);
    }

    @Test
    void anExecutorOfOneOperatorIsRefusedByAnother() {
        Tensor a = Tensor.fromFloats(dev, Shape.of(2), 1, 2);
        long ta = tensor(a);
        long[] p = prepareAdd(ta, ta, ta);
        assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, api.execute(AclnnOp.MUL, 0, p[0], p[1],
                dev.defaultStream().handle()));
        assertTrue(acl.recentErrMsg().contains("made by aclnnAddGetWorkspaceSize"), acl.recentErrMsg());
        assertEquals(0, api.destroyExecutor(p[1]));
        api.destroyTensor(ta);
    }

    @Test
    void aDescriptorDestroyedBetweenThePhasesIsAnError() {
        Tensor a = Tensor.fromFloats(dev, Shape.of(2), 1, 2);
        Tensor b = Tensor.fromFloats(dev, Shape.of(2), 3, 4);
        long ta = tensor(a);
        long tb = tensor(b);
        long[] p = prepareAdd(ta, tb, ta);
        assertEquals(0, api.destroyTensor(tb));
        assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, api.execute(AclnnOp.ADD, 0, p[0], p[1],
                dev.defaultStream().handle()));
        assertTrue(acl.recentErrMsg().contains("aclTensor of other was destroyed"), acl.recentErrMsg());
        assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, api.destroyTensor(tb), "destroyed twice");
        api.destroyExecutor(p[1]);
        api.destroyTensor(ta);
    }

    @Test
    void int64ArraysReachTheOperatorIntact() {
        Tensor x = Tensor.fromFloats(dev, Shape.of(2, 2), 1, 2, 3, 4);
        Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(2));
        long tx = tensor(x);
        long to = tensor(out);
        long axes = api.createIntArray(new long[] {1L << 40});
        long[] ws = new long[1];
        long[] exec = new long[1];
        assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, api.getWorkspaceSize(AclnnOp.REDUCE_SUM,
                new Object[] {tx, axes, false, AclDataTypes.of(DType.FP32), to}, ws, exec));
        assertTrue(acl.recentErrMsg().contains("axis 1099511627776 is outside a 2D tensor"), acl.recentErrMsg());
        assertEquals(0, api.destroyIntArray(axes));
        long last = api.createIntArray(new long[] {-1});
        assertEquals(0, api.getWorkspaceSize(AclnnOp.REDUCE_SUM,
                new Object[] {tx, last, false, AclDataTypes.of(DType.FP32), to}, ws, exec));
        long workspace = dev.allocateRaw(Math.max(ws[0], 1));
        assertEquals(0, api.execute(AclnnOp.REDUCE_SUM, workspace, ws[0], exec[0], dev.defaultStream().handle()));
        assertArrayEquals(new float[] {3, 7}, out.toFloatArray());
        dev.release(workspace, Math.max(ws[0], 1));
        api.destroyIntArray(last);
        api.destroyTensor(tx);
        api.destroyTensor(to);
    }

    @Test
    void stringsReachTheOperatorIntact() {
        Tensor logits = Tensor.fromFloats(dev, Shape.of(2, 3), 0, 0, 0, 1, 2, 3);
        Tensor labels = Tensor.fromLongs(dev, Shape.of(2), 1, 2);
        long[] ws = new long[1];
        long[] exec = new long[1];
        long tl = tensor(logits);
        long tt = tensor(labels);
        long loss = tensor(Tensor.empty(dev, DType.FP32, Shape.of(1)));
        long logp = tensor(Tensor.empty(dev, DType.FP32, Shape.of(2, 3)));
        long z = tensor(Tensor.empty(dev, DType.FP32, Shape.of(1)));
        long lse = tensor(Tensor.empty(dev, DType.FP32, Shape.of(2)));
        int code = api.getWorkspaceSize(AclnnOp.CROSS_ENTROPY_LOSS, new Object[] {tl, tt, null, "average", -100L,
            0.0, 0.0, false, loss, logp, z, lse}, ws, exec);
        if (SimulatedCann.atlasTraining()) {
            assertEquals(aclnn.ACLNN_ERR_INNER_FIND_KERNEL_ERROR, code);
            assertTrue(acl.recentErrMsg().contains("not supported on " + dev.socName()), acl.recentErrMsg());
        } else {
            assertEquals(aclnn.ACLNN_ERR_PARAM_INVALID, code);
            assertTrue(acl.recentErrMsg().contains("reductionOptional \"average\""), acl.recentErrMsg());
            assertEquals(0, api.getWorkspaceSize(AclnnOp.CROSS_ENTROPY_LOSS, new Object[] {tl, tt, null, "mean", -100L,
                0.0, 0.0, false, loss, logp, z, lse}, ws, exec));
            api.destroyExecutor(exec[0]);
        }
        for (long h : new long[] {tl, tt, loss, logp, z, lse}) {
            assertEquals(0, api.destroyTensor(h));
        }
    }

    @Test
    void theRuntimesMessageReachesTheAclException() {
        Tensor a = Tensor.fromFloats(dev, Shape.of(2, 3), new float[6]);
        Tensor b = Tensor.fromFloats(dev, Shape.of(4, 5), new float[20]);
        Tensor c = Tensor.empty(dev, DType.FP32, Shape.of(2, 5));
        AclException e = assertThrows(AclException.class, () -> {
            try (OpContext k = new OpContext(api, acl, dev.defaultStream(), "test")) {
                k.run(AclnnOp.MATMUL, k.t(a), k.t(b), k.t(c), (byte) 1);
            }
        });
        assertEquals("aclnnMatmulGetWorkspaceSize", e.call());
        assertEquals("ACLNN_ERR_PARAM_INVALID", e.codeName());
        assertTrue(e.getMessage().contains("the inner dimensions differ: self has 3 columns, mat2 4 rows"), e.getMessage());
    }
}
