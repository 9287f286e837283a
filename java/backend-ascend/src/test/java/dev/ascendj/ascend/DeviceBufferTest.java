package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceBufferTest {
    @Test
    void hostDataRoundTripsThroughDeviceMemory() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            Tensor t = Tensor.fromFloats(d, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.transpose(0, 1).toFloatArray());
            Tensor h = Tensor.fromFloats(d, DType.FP16, Shape.of(3), 0.5f, -2f, 1024f);
            assertArrayEquals(new float[] {0.5f, -2f, 1024f}, h.toFloatArray());
        }
    }

    @Test
    void hostReadsWaitForTheDefaultStreamBeforeTouchingTheData() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            Tensor t = Tensor.fromFloats(d, Shape.of(4), 1, 2, 3, 4);
            npu.acl.log.clear();
            t.toFloatArray();
            long stream = d.defaultStream().handle();
            List<String> copies = npu.acl.log.stream()
                    .filter(e -> e.startsWith("aclrtMemcpy") || e.startsWith("aclrtSynchronizeStream")).toList();
            assertEquals(List.of("aclrtMemcpyAsync D2H 16 " + stream, "aclrtSynchronizeStream " + stream), copies);
        }
    }

    @Test
    void directBuffersAreCopiedInPlaceAndHeapBuffersThroughPinnedStaging() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            try (DeviceBuffer b = d.allocate(8)) {
                ByteBuffer direct = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
                direct.putInt(0, 99).putInt(4, 7).putInt(8, 8);
                direct.position(4);
                b.copyFromHost(0, direct);
                assertEquals(4, direct.position(), "the source position is left alone");
                ByteBuffer heap = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                b.copyToHost(0, heap);
                assertEquals(7, heap.getInt(0));
                assertEquals(8, heap.getInt(4));
                assertEquals(1, npu.acl.calls("aclrtMallocHost").size(), "one pinned staging block");
            }
        }
    }

    @Test
    void asyncCopiesFromPinnedMemoryDoNotWait() {
        try (FakeNpu npu = FakeNpu.a910()) {
            NpuDevice d = npu.device();
            try (DeviceBuffer b = d.allocate(16); NpuStream st = d.createStream();
                 PinnedHostBuffer host = PinnedHostBuffer.allocate(d, 16)) {
                host.asByteBuffer().putFloat(0, 3.5f);
                npu.acl.log.clear();
                b.copyFromHostAsync(0, host.asByteBuffer(), st);
                assertEquals(List.of("aclrtMemcpyAsync H2D 16 " + st.handle()), npu.acl.log);
                ByteBuffer back = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
                b.copyToHostAsync(0, back, st);
                st.synchronize();
                assertEquals(3.5f, back.getFloat(0));
            }
        }
    }

    @Test
    void deviceToDeviceCopiesAndFillsAreOrderedOnTheDefaultStream() {
        try (FakeNpu npu = FakeNpu.a910(); Scope s = Scope.open()) {
            NpuDevice d = npu.device();
            Tensor a = Tensor.fromInts(d, Shape.of(3), 1, 2, 3);
            Tensor z = Tensor.zeros(d, DType.INT32, Shape.of(3));
            z.buffer().copyFrom(a.buffer(), 4, 0, 8);
            assertArrayEquals(new int[] {2, 3, 0}, z.toIntArray());
            assertTrue(npu.acl.log.contains("aclrtMemcpyAsync D2D 8 " + d.defaultStream().handle()));
        }
    }

    @Test
    void outOfRangeCopiesAndUseAfterCloseFail() {
        try (FakeNpu npu = FakeNpu.a910()) {
            DeviceBuffer b = npu.device().allocate(4);
            assertThrows(IndexOutOfBoundsException.class, () -> b.copyToHost(2, ByteBuffer.allocate(4)));
            b.close();
            assertThrows(IllegalStateException.class, b::address);
        }
    }

    @Test
    void buffersOfAnotherDeviceAreRejected() {
        try (FakeNpu npu = FakeNpu.a910(); DeviceBuffer a = npu.backend.device(0).allocate(4);
             DeviceBuffer b = npu.backend.device(1).allocate(4)) {
            assertThrows(IllegalArgumentException.class, () -> a.copyFrom(b, 0, 0, 4));
            assertThrows(IllegalArgumentException.class,
                    () -> a.copyFromHostAsync(0, ByteBuffer.allocateDirect(4), npu.backend.device(1).defaultStream()));
        }
    }
}
