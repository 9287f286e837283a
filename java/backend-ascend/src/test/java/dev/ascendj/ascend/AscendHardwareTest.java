package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.Cann;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Runs the real bindings on an Atlas server. Tagged {@code ascend}, which the build excludes by
 * default; run with
 * {@code mvn -pl java/backend-ascend -am test -Dascendj.excludedGroups= -Dgroups=ascend} after
 * building the natives (docs/ascend.md, "Building on an Ascend server").
 */
@Tag("ascend")
class AscendHardwareTest {
    private static AscendBackend backend;

    @BeforeAll
    static void open() {
        Assumptions.assumeTrue(Cann.isAvailable(), "CANN not found: set ASCEND_TOOLKIT_HOME or source set_env.sh"
                + " (without an NPU: ASCENDJ_CANN=simulator runs over the simulated CANN)");
        backend = AscendBackend.open();
        Assumptions.assumeTrue(backend.deviceCount() > 0, "no NPU visible");
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void copiesRoundTripAndTheSocIsKnown() {
        NpuDevice d = backend.device(0);
        assertTrue(d.socName().startsWith("Ascend"), d.socName());
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.fromFloats(d, DType.FP16, Shape.of(2, 2), 1, 2, 3, 4);
            assertArrayEquals(new float[] {1, 3, 2, 4}, t.transpose(0, 1).toFloatArray());
        }
    }

    @Test
    void matmulRmsNormAndCrossEntropyGiveTheExpectedNumbers() {
        NpuDevice d = backend.device(0);
        AscendOps ops = backend.ops(d);
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.fromFloats(d, DType.FP16, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            Tensor b = Tensor.fromFloats(d, DType.FP16, Shape.of(3, 2), 1, 0, 0, 1, 1, 1);
            Tensor y = Tensor.empty(d, DType.FP16, Shape.of(2, 2));
            ops.matmul(a, false, b, false, y, 1f, 0f);
            assertArrayEquals(new float[] {4, 5, 10, 11}, y.toFloatArray(), 1e-2f);

            Tensor x = Tensor.fromFloats(d, Shape.of(1, 4), 1, 2, 3, 4);
            Tensor w = Tensor.fromFloats(d, Shape.of(4), 1, 1, 1, 1);
            Tensor out = Tensor.empty(d, DType.FP32, Shape.of(1, 4));
            ops.rmsNorm(x, w, 0f, out, null);
            double rms = Math.sqrt((1 + 4 + 9 + 16) / 4.0);
            assertArrayEquals(new float[] {(float) (1 / rms), (float) (2 / rms), (float) (3 / rms), (float) (4 / rms)},
                    out.toFloatArray(), 2e-3f);

            Tensor logits = Tensor.fromFloats(d, Shape.of(2, 3), 0, 0, 0, 1, 2, 3);
            Tensor labels = Tensor.fromInts(d, Shape.of(2), 1, 2);
            Tensor loss = Tensor.empty(d, DType.FP32, Shape.of(1));
            assertEquals(2, ops.crossEntropyLoss(logits, labels, -100, dev.ascendj.core.Reduction.MEAN, loss, null));
            double l0 = Math.log(3);
            double l1 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3;
            assertEquals((l0 + l1) / 2, loss.toFloatArray()[0], 1e-3);
        }
    }

    @Test
    void allReduceAcrossTwoNpus() throws Exception {
        Assumptions.assumeTrue(backend.deviceCount() >= 2, "needs two NPUs");
        NpuDevice d0 = backend.device(0);
        NpuDevice d1 = backend.device(1);
        byte[] root = HcclCommunicator.rootInfo(d0);
        CompletableFuture<float[]> r0 = CompletableFuture.supplyAsync(() -> reduce(d0, root, 0, 1f));
        CompletableFuture<float[]> r1 = CompletableFuture.supplyAsync(() -> reduce(d1, root, 1, 2f));
        assertArrayEquals(new float[] {3, 3, 3}, r0.get());
        assertArrayEquals(new float[] {3, 3, 3}, r1.get());
    }

    private static float[] reduce(NpuDevice d, byte[] root, int rank, float value) {
        try (Scope s = Scope.open(); HcclCommunicator c = HcclCommunicator.fromRootInfo(d, 2, root, rank)) {
            Tensor t = Tensor.fromFloats(d, Shape.of(3), value, value, value);
            c.allReduce(t, t, ReduceOp.SUM);
            return t.toFloatArray();
        }
    }
}
