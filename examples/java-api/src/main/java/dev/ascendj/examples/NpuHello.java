package dev.ascendj.examples;

import dev.ascendj.ascend.AscendBackend;
import dev.ascendj.ascend.AscendOps;
import dev.ascendj.ascend.HcclCommunicator;
import dev.ascendj.ascend.NpuDevice;
import dev.ascendj.ascend.NpuEvent;
import dev.ascendj.ascend.NpuStream;
import dev.ascendj.ascend.PinnedHostBuffer;
import dev.ascendj.core.DType;
import dev.ascendj.core.Half;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/** The binding API on NPUs: copies, a matmul and an RMSNorm timed with events, and an all-reduce over HCCL. */
public final class NpuHello {
    private static final Logger LOG = LogManager.getLogger(NpuHello.class);

    /** What the program computed: y = x @ w^T, RMSNorm(y), the pinned copy of y, and the all-reduced sum. */
    public record Result(float[] y, float[] normed, float[] pinnedCopy, float[] allReduced) {
    }

    public static void main(String[] args) throws Exception {
        // aclInit once per process; the backend resets its devices and finalizes ACL on close.
        try (AscendBackend npu = AscendBackend.open()) {
            Result r = run(npu);
            LOG.info("y = {}", Arrays.toString(r.y()));                           // [4, 5, 10, 11]
            LOG.info("rmsnorm(y) = {}", Arrays.toString(r.normed()));
            LOG.info("all-reduced: {}", Arrays.toString(r.allReduced()));         // [11, 22, 33]
        }
    }

    public static Result run(AscendBackend npu) throws Exception {
        NpuDevice dev = npu.device(0);                      // aclrtSetDevice + a context of its own
        LOG.info("{}, {} NPU(s), {}", dev.socName(), npu.deviceCount(), dev.memoryInfo());
        AscendOps ops = npu.ops(dev);                       // operators on the default stream
        LOG.info("fused operators: {}", ops.soc().fusedOps());   // false on a 910A

        try (Scope scope = Scope.open()) {                  // closes every tensor created inside
            // host -> device (waits for the default stream, so the data is there afterwards)
            Tensor x = Tensor.fromFloats(dev, DType.FP16, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            Tensor w = Tensor.fromFloats(dev, DType.FP16, Shape.of(2, 3), 1, 0, 1, 0, 1, 1);
            Tensor y = Tensor.empty(dev, DType.FP16, Shape.of(2, 2));

            NpuEvent start = dev.createEvent();
            NpuEvent end = dev.createEvent();
            start.record(dev.defaultStream());
            ops.matmul(x, false, w, true, y, 1f, 0f);      // y = x @ w^T (aclnnMatmul)
            Tensor gamma = Tensor.fromFloats(dev, DType.FP16, Shape.of(2), 1, 1);
            Tensor normed = Tensor.empty(dev, DType.FP16, Shape.of(2, 2));
            ops.rmsNorm(y, gamma, 1e-6f, normed, null);    // fused on 910B, composed on 910A
            end.record(dev.defaultStream());
            end.synchronize();
            LOG.info("took {} ms", end.elapsedMillisSince(start));
            start.close();
            end.close();

            // device -> host: reads wait for the default stream by themselves
            float[] yHost = y.toFloatArray();
            float[] normedHost = normed.toFloatArray();

            // truly asynchronous copies go through pinned host memory and a stream of their own
            float[] pinned = new float[4];
            try (NpuStream copies = dev.createStream();
                 PinnedHostBuffer host = PinnedHostBuffer.allocate(dev, y.byteSize())) {
                y.buffer().copyToHostAsync(0, host.asByteBuffer(), copies);
                copies.synchronize();                       // now host holds y's bytes
                for (int i = 0; i < pinned.length; i++) {
                    pinned[i] = Half.halfToFloat(host.asByteBuffer().getShort(2 * i));
                }
            }

            // all-reduce across two NPUs with HCCL; one thread per rank, root information shared as bytes
            float[] reduced = null;
            if (npu.deviceCount() >= 2) {
                byte[] root = HcclCommunicator.rootInfo(npu.device(0));
                CompletableFuture<float[]> r0 = CompletableFuture.supplyAsync(() -> allReduce(npu.device(0), root, 0, 1));
                CompletableFuture<float[]> r1 = CompletableFuture.supplyAsync(() -> allReduce(npu.device(1), root, 1, 10));
                reduced = r0.get();
                r1.get();
            }
            return new Result(yHost, normedHost, pinned, reduced);
        }
    }

    private static float[] allReduce(NpuDevice dev, byte[] root, int rank, float scale) {
        try (Scope scope = Scope.open(); HcclCommunicator c = HcclCommunicator.fromRootInfo(dev, 2, root, rank)) {
            Tensor t = Tensor.fromFloats(dev, Shape.of(3), scale, 2 * scale, 3 * scale);
            c.allReduce(t, t, ReduceOp.SUM);
            return t.toFloatArray();
        }
    }
}
