package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.aclrtCallback;
import dev.ascendj.acl.aclrtStream;
import dev.ascendj.acl.global.acl;
import dev.ascendj.ascend.jcpp.JavaCppAclApi;
import dev.ascendj.ascend.jcpp.JavaCppAclnnApi;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.core.DType;
import dev.ascendj.core.MemoryInfo;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * The Ascend backend's resource rules against the simulated CANN, which poisons and quarantines
 * freed device memory and reports work that reads it: buffers closed while queued work still reads
 * them are freed only after the next synchronisation; a backend that closes gives every block,
 * stream and context of its devices back; and a kernel that reads freed memory fails at the next
 * synchronisation with an {@link AclException}, as on an NPU.
 */
class BackendLifecycleSimTest {
    /** Holds a stream until {@link #open} counts down. */
    private static final class Gate extends aclrtCallback {
        final CountDownLatch open = new CountDownLatch(1);

        @Override
        public void call(Pointer userData) {
            try {
                open.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Queues this gate on {@code stream} of the calling thread's device. */
        void hold(AclApi api, NpuStream stream) {
            stream.device().makeCurrent();
            AclException.check(api, acl.aclrtLaunchCallback(this, null, acl.ACL_CALLBACK_BLOCK,
                    new aclrtStream(new Pointer() { { address = stream.handle(); } })), "aclrtLaunchCallback");
        }
    }

    @Test
    void aBufferClosedWhileQueuedWorkReadsItIsFreedOnlyAfterSynchronisation() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice dev = npu.device(2);
        AscendOps ops = npu.ops(dev);
        Gate gate = new Gate();
        Tensor result = Scope.untracked(() -> Tensor.empty(dev, DType.FP32, Shape.of(2, 2)));
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.fromFloats(dev, Shape.of(2, 2), 1, 2, 3, 4);
            gate.hold(npu.acl(), dev.defaultStream());
            ops.muls(a, 2f, result); // queued behind the gate, reads a
        } // a is closed here, before the multiplication has run
        gate.open.countDown();
        // Freed at once, a would read back 0xFF bytes (NaN) and the simulator would fail the kernel.
        assertArrayEquals(new float[] {2, 4, 6, 8}, result.toFloatArray());
        result.close();
        gate.close();
    }

    @Test
    void aKernelThatReadsFreedMemoryFailsAtTheNextSynchronisation() {
        AscendBackend npu = SimulatedCann.backend();
        NpuDevice dev = npu.device(2);
        AclApi api = npu.acl();
        Gate gate = new Gate();
        try (Scope s = Scope.open()) {
            Tensor out = Tensor.empty(dev, DType.FP32, Shape.of(4));
            dev.makeCurrent();
            long[] raw = new long[1];
            assertEquals(0, api.malloc(raw, 16, AclApi.MALLOC_HUGE_FIRST));
            TensorRef in = TensorRef.contiguous(raw[0], DType.FP32, 4);
            gate.hold(api, dev.defaultStream());
            try (OpContext k = new OpContext(npu.aclnn(), api, dev.defaultStream(), "test")) {
                k.run(AclnnOp.MULS, k.t(in), k.scalar(3), k.t(out));
            }
            assertEquals(0, api.free(raw[0])); // wrong: the queued kernel still reads it
            gate.open.countDown();
            AclException e = assertThrows(AclException.class, dev.defaultStream()::synchronize);
            assertEquals(acl.ACL_ERROR_RT_AICORE_EXCEPTION, e.code());
            assertTrue(e.getMessage().contains("aclnnMuls: input self"), e.getMessage());
            assertTrue(e.getMessage().contains("freed before the operator ran"), e.getMessage());
        } finally {
            gate.close();
        }
    }

    @Test
    void closingABackendGivesBackEveryBlockOfItsDevices() {
        AscendBackend shared = SimulatedCann.backend();
        NpuDevice watch = shared.device(3);
        watch.synchronize();
        MemoryInfo before = watch.memoryInfo();
        // A second backend over the same bindings: ACL stays initialised (the shared one holds it).
        try (AscendBackend own = new AscendBackend(JavaCppAclApi.instance(), JavaCppAclnnApi.instance())) {
            NpuDevice d = own.device(3);
            try (Scope s = Scope.open(); NpuStream side = d.createStream(); NpuEvent e = d.createEvent()) {
                Tensor x = Tensor.fromFloats(d, Shape.of(64, 64), new float[64 * 64]);
                Tensor y = Tensor.empty(d, DType.FP32, Shape.of(64, 64));
                own.ops(side).matmul(x, false, x, true, y, 1f, 0f); // a workspace on the side stream
                e.record(side);
                own.ops(d).rmsNorm(x, Tensor.fromFloats(d, Shape.of(64), new float[64]), 1e-5f, y, null);
                Tensor big = Tensor.zeros(d, DType.FP16, Shape.of(1 << 20));
                assertTrue(watch.memoryInfo().freeBytes() <= before.freeBytes() - big.byteSize());
            }
        }
        assertEquals(before.freeBytes(), watch.memoryInfo().freeBytes(),
                "device 3's memory is all back once the second backend closed");
    }
}
