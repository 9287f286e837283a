package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.aclrtCallback;
import dev.ascendj.acl.aclrtStream;
import dev.ascendj.acl.global.acl;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.DType;
import dev.ascendj.core.MemoryInfo;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ACL runtime of the simulated CANN through the real JNI glue and {@link AscendBackend}:
 * what the fakes cannot show. Streams run asynchronously, so a read without synchronisation sees
 * old data; device memory is accounted and runs out; bad handles, double frees and calls from a
 * thread without a context come back as {@link AclException}s carrying the runtime's message.
 */
class AclRuntimeSimTest {
    private AscendBackend npu;
    private NpuDevice dev;
    private AclApi api;

    @BeforeEach
    void open() {
        npu = SimulatedCann.backend();
        dev = npu.device(0);
        api = npu.acl();
    }

    @Test
    void theSocAndTheDeviceCountComeFromTheSimulatorsConfiguration() {
        assertEquals(System.getenv("ASCENDJ_SIM_SOC"), dev.socName());
        assertEquals(Integer.parseInt(System.getenv("ASCENDJ_SIM_DEVICES")), npu.deviceCount());
        assertEquals(Soc.of(dev.socName()).fusedOps(), !SimulatedCann.atlasTraining());
    }

    @Test
    void hostDataRoundTripsThroughDeviceMemoryInEveryDtype() {
        try (Scope s = Scope.open()) {
            Tensor f = Tensor.fromFloats(dev, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.transpose(0, 1).toFloatArray());
            Tensor h = Tensor.fromFloats(dev, DType.FP16, Shape.of(3), 0.5f, -2f, 1024f);
            assertArrayEquals(new float[] {0.5f, -2f, 1024f}, h.toFloatArray());
            Tensor l = Tensor.fromLongs(dev, Shape.of(2), 1L << 40, -7);
            assertArrayEquals(new long[] {1L << 40, -7}, l.toLongArray());
        }
    }

    /** A stream held by a host callback (which runs on the stream when the work before it is done). */
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
    }

    @Test
    void workOnAStreamRunsLaterSoAReadWithoutSynchronisationSeesTheOldData() throws Exception {
        try (Scope s = Scope.open(); NpuStream side = dev.createStream();
             PinnedHostBuffer host = PinnedHostBuffer.allocate(dev, 16)) {
            Tensor t = Tensor.fromFloats(dev, Shape.of(4), 1, 2, 3, 4);
            host.asByteBuffer().asFloatBuffer().put(new float[] {10, 20, 30, 40});
            Gate gate = new Gate();
            dev.makeCurrent();
            AclException.check(api, acl.aclrtLaunchCallback(gate, null, acl.ACL_CALLBACK_BLOCK,
                    new aclrtStream(new Pointer() { { address = side.handle(); } })), "aclrtLaunchCallback");
            t.buffer().copyFromHostAsync(0, host.asByteBuffer(), side);
            // The default stream does not wait for the side stream: the copy has not run yet.
            assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray());
            gate.open.countDown();
            side.synchronize();
            assertArrayEquals(new float[] {10, 20, 30, 40}, t.toFloatArray());
            gate.close();
        }
    }

    @Test
    void anEventOrdersOneStreamAfterAnother() throws Exception {
        try (Scope s = Scope.open(); NpuStream side = dev.createStream(); NpuEvent done = dev.createEvent();
             PinnedHostBuffer host = PinnedHostBuffer.allocate(dev, 16)) {
            Tensor t = Tensor.zeros(dev, DType.FP32, Shape.of(4));
            host.asByteBuffer().asFloatBuffer().put(new float[] {5, 6, 7, 8});
            Gate gate = new Gate();
            dev.makeCurrent();
            acl.aclrtLaunchCallback(gate, null, acl.ACL_CALLBACK_BLOCK,
                    new aclrtStream(new Pointer() { { address = side.handle(); } }));
            t.buffer().copyFromHostAsync(0, host.asByteBuffer(), side);
            done.record(side);
            assertFalse(done.isCompleted(), "the side stream is held");
            dev.defaultStream().waitEvent(done);
            CompletableFuture<float[]> read = CompletableFuture.supplyAsync(t::toFloatArray);
            Thread.sleep(50);
            assertFalse(read.isDone(), "the default stream waits for the event");
            gate.open.countDown();
            assertArrayEquals(new float[] {5, 6, 7, 8}, read.get(60, TimeUnit.SECONDS));
            assertTrue(done.isCompleted());
            gate.close();
        }
    }

    @Test
    void eventsAreTimedInOrder() {
        try (NpuEvent a = dev.createEvent(); NpuEvent b = dev.createEvent(); Scope s = Scope.open()) {
            a.record(dev.defaultStream());
            Tensor big = Tensor.zeros(dev, DType.FP32, Shape.of(256, 256));
            npu.ops(dev).matmul(big, false, big, false, Tensor.empty(dev, DType.FP32, Shape.of(256, 256)), 1f, 0f);
            b.record(dev.defaultStream());
            b.synchronize();
            float ms = b.elapsedMillisSince(a);
            assertTrue(ms > 0 && ms < 60_000, "elapsed " + ms + " ms");
        }
    }

    @Test
    void memoryIsAccountedAndFreedMemoryComesBackAfterSynchronisation() {
        dev.synchronize();
        MemoryInfo before = dev.memoryInfo();
        assertEquals(1L << 30, before.totalBytes(), "ASCENDJ_SIM_DEVICE_MEMORY=1g");
        DeviceBuffer b = dev.allocate(64L << 20);
        MemoryInfo during = dev.memoryInfo();
        assertEquals(before.freeBytes() - (64L << 20), during.freeBytes(), "the runtime counts the block");
        assertEquals(before.usedBytes() + (64L << 20), during.usedBytes(), "and so does AscendJ");
        b.close();
        dev.synchronize(); // closed buffers are freed after the next synchronisation
        assertEquals(before.freeBytes(), dev.memoryInfo().freeBytes());
    }

    @Test
    void runningOutOfDeviceMemoryIsAnAclExceptionWithTheRuntimesMessage() {
        AclException e = assertThrows(AclException.class, () -> dev.allocate(2L << 30));
        assertEquals("aclrtMalloc", e.call());
        assertEquals(acl.ACL_ERROR_RT_MEMORY_ALLOCATION, e.code());
        assertTrue(e.recentErrorMessage().contains("out of device memory on device 0"), e.getMessage());
    }

    @Test
    void doubleFreesAndDeadHandlesAreErrorsNotCrashes() {
        dev.makeCurrent();
        long[] p = new long[1];
        assertEquals(0, api.malloc(p, 128, AclApi.MALLOC_HUGE_FIRST));
        assertEquals(0, api.free(p[0]));
        assertEquals(acl.ACL_ERROR_RT_MEMORY_FREE, api.free(p[0]));
        assertTrue(api.recentErrMsg().contains("freed twice"));
        long[] stream = new long[1];
        assertEquals(0, api.createStream(stream));
        assertEquals(0, api.destroyStream(stream[0]));
        assertEquals(acl.ACL_ERROR_INVALID_RESOURCE_HANDLE, api.destroyStream(stream[0]));
        assertEquals(acl.ACL_ERROR_INVALID_RESOURCE_HANDLE, api.synchronizeStream(0xdeadbeefL));
        assertTrue(api.recentErrMsg().contains("not a live stream"));
        assertEquals(acl.ACL_ERROR_INVALID_RESOURCE_HANDLE, api.destroyEvent(12345L));
    }

    @Test
    void aThreadWithoutAContextGetsContextNullButTheWrappersBindForIt() throws Exception {
        // A fresh thread: ACL keeps the current context per OS thread, and pool threads may have one.
        int[] code = new int[1];
        Thread t = new Thread(() -> code[0] = api.malloc(new long[1], 64, AclApi.MALLOC_HUGE_FIRST));
        t.start();
        t.join();
        assertEquals(acl.ACL_ERROR_RT_CONTEXT_NULL, code[0]);
        float[] viaWrapper = CompletableFuture.supplyAsync(() -> {
            try (Scope s = Scope.open()) {
                return Tensor.fromFloats(npu.device(1), Shape.of(2), 3, 4).toFloatArray();
            }
        }).get();
        assertArrayEquals(new float[] {3, 4}, viaWrapper);
    }

    @Test
    void copiesCheckTheirKindAgainstTheAddresses() {
        dev.makeCurrent();
        ByteBuffer host = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        long hostAddress = new org.bytedeco.javacpp.BytePointer(host).address();
        try (DeviceBuffer b = dev.allocate(16)) {
            // device-to-host with the addresses swapped: the host pointer is not device memory
            assertEquals(acl.ACL_ERROR_INVALID_PARAM, api.memcpy(hostAddress, 16, b.address(), 16,
                    AclApi.MEMCPY_HOST_TO_DEVICE));
            assertTrue(api.recentErrMsg().contains("not device memory"));
            assertEquals(0, api.memcpy(b.address(), 16, hostAddress, 16, AclApi.MEMCPY_HOST_TO_DEVICE));
            assertNotEquals(0, api.memcpy(b.address(), 8, hostAddress, 16, AclApi.MEMCPY_HOST_TO_DEVICE),
                    "count beyond destMax");
        }
    }
}
