package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Event;
import dev.ascendj.core.MemoryInfo;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Stream;
import dev.ascendj.core.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every native create is matched by its destroy, also when something fails half-way. */
class NpuDeviceLifecycleTest {
    @Test
    void openingAndClosingReleasesEverything() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            assertEquals("Ascend910A", d.socName());
            assertEquals("npu", d.type());
            try (Scope s = Scope.open()) {
                Tensor.zeros(d, DType.FP32, Shape.of(4, 4));
                Stream st = d.createStream();
                Event e = d.createEvent();
                e.record(st);
                st.close();
                e.close();
            }
            assertEquals(List.of("aclrtSetDevice 0", "aclrtCreateContext 0"), npu.acl.log.subList(2, 4));
        } // FakeNpu.close asserts that nothing leaked
    }

    @Test
    void closingTheDeviceDestroysStreamsThatWereLeftOpen() {
        FakeNpu npu = FakeNpu.b910();
        npu.device().createStream();
        npu.close(); // asserts no live stream
    }

    @Test
    void aFailedContextCreationResetsTheDevice() {
        FakeAcl acl = new FakeAcl(1, "Ascend910A");
        try (AscendBackend b = new AscendBackend(acl, new FakeAclnn(acl.log))) {
            acl.failNext("aclrtCreateContext", 107002);
            AclException e = assertThrows(AclException.class, () -> b.device(0));
            assertEquals("ACL_ERROR_RT_CONTEXT_NULL", e.codeName());
            assertEquals(List.of("aclrtSetDevice 0", "aclrtCreateContext 0", "aclrtResetDevice 0"),
                    acl.log.subList(acl.log.size() - 3, acl.log.size()));
        }
        assertEquals(List.of(), acl.liveHandles());
    }

    @Test
    void aFailedDefaultStreamDestroysTheContextAndResetsTheDevice() {
        FakeAcl acl = new FakeAcl(1, "Ascend910A");
        try (AscendBackend b = new AscendBackend(acl, new FakeAclnn(acl.log))) {
            acl.failNext("aclrtCreateStream", 207001);
            assertThrows(AclException.class, () -> b.device(0));
            assertTrue(acl.calls("aclrtDestroyContext").size() == 1, acl.log.toString());
            assertTrue(acl.log.get(acl.log.size() - 1).equals("aclrtResetDevice 0"), acl.log.toString());
        }
        assertEquals(List.of(), acl.liveHandles());
    }

    @Test
    void freedBuffersWaitForTheNextDeviceSynchronisation() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            DeviceBuffer b = d.allocate(1024);
            long address = b.address();
            b.close();
            assertTrue(npu.acl.deviceBlocks.containsKey(address), "freed while work might still read it");
            assertEquals(1024, d.deferredBytes());
            d.synchronize();
            int sync = npu.acl.log.lastIndexOf("aclrtSynchronizeDevice");
            int free = npu.acl.log.lastIndexOf("aclrtFree " + address);
            assertTrue(sync >= 0 && free > sync, npu.acl.log.toString());
            assertEquals(0, d.deferredBytes());
        }
    }

    @Test
    void manyFreedBytesTriggerASynchronisation() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            long chunk = NpuDevice.DEFERRED_FREE_LIMIT / 2 + 1;
            d.allocate(chunk).close();
            assertEquals(0, npu.acl.calls("aclrtFree").size());
            d.allocate(chunk).close();
            assertEquals(2, npu.acl.calls("aclrtFree").size());
        }
    }

    @Test
    void anAllocationThatRunsOutOfMemoryFreesPendingBlocksAndRetries() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            d.allocate(64).close();
            npu.acl.failNext("aclrtMalloc", 207001);
            try (DeviceBuffer b = d.allocate(128)) {
                assertEquals(128, b.byteSize());
            }
            assertEquals(1, npu.acl.calls("aclrtFree").size(), "the pending block was freed before the retry");
        }
    }

    @Test
    void allocationFailureCarriesTheRuntimeMessage() {
        try (FakeNpu npu = FakeNpu.a910()) {
            npu.acl.failNext("aclrtMalloc", 207018);
            npu.acl.errorMessage = "EL0004: Failed to allocate memory.";
            AclException e = assertThrows(AclException.class, () -> npu.device().allocate(1 << 20));
            assertEquals("aclrtMalloc failed: ACL_ERROR_RT_DEVICE_OOM (207018): EL0004: Failed to allocate memory.",
                    e.getMessage());
        }
    }

    @Test
    void memoryInfoCombinesTheRuntimeAndAscendjsAccounting() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            d.allocate(1000);
            DeviceBuffer b = d.allocate(500);
            b.close();
            MemoryInfo m = d.memoryInfo();
            assertEquals(32L << 30, m.totalBytes());
            assertEquals(30L << 30, m.freeBytes());
            assertEquals(1000, m.usedBytes());
            assertEquals(1500, m.peakBytes());
        }
    }

    @Test
    void eventsTimeTheWorkBetweenThem() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            try (NpuEvent start = d.createEvent(); NpuEvent end = d.createEvent()) {
                assertThrows(IllegalStateException.class, () -> end.elapsedMillisSince(start));
                start.record(d.defaultStream());
                end.record(d.defaultStream());
                assertTrue(end.isCompleted());
                assertEquals(2.5f, end.elapsedMillisSince(start));
                assertEquals(List.of("aclrtEventElapsedTime " + start.handle() + " " + end.handle()),
                        npu.acl.calls("aclrtEventElapsedTime"));
            }
        }
    }

    @Test
    void streamsOfOneDeviceCannotWaitForEventsOfAnother() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d0 = npu.backend.device(0);
            NpuDevice d1 = npu.backend.device(1);
            try (NpuEvent e = d1.createEvent()) {
                assertThrows(IllegalArgumentException.class, () -> d0.defaultStream().waitEvent(e));
            }
        }
    }

    @Test
    void usingAClosedStreamFails() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuStream s = npu.device().createStream();
            s.close();
            assertThrows(IllegalStateException.class, s::synchronize);
        }
    }
}
