package dev.ascendj.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.AscendjException;
import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Buffer;
import dev.ascendj.core.DType;
import dev.ascendj.core.Event;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Stream;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class CpuDeviceApiTest {

    @Test
    void cpuBackendIsFoundThroughServiceLoaderAndByName() {
        Backend b = Backends.get("cpu");
        assertInstanceOf(CpuBackend.class, b);
        assertEquals("cpu", b.name());
        AscendjException e = assertThrows(AscendjException.class, () -> Backends.get("tpu"));
        assertTrue(e.getMessage().contains("tpu") && e.getMessage().contains("cpu"), e.getMessage());
    }

    @Test
    void systemPropertySelectsTheBackend() {
        String old = System.getProperty(Backends.PROPERTY);
        try {
            System.setProperty(Backends.PROPERTY, "cpu");
            assertEquals("cpu", Backends.get().name());
        } finally {
            if (old == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }

    @Test
    void buffersCopyBothWaysAndAccountMemory() {
        CpuBackend b = new CpuBackend(2);
        CpuDevice d = b.device(1);
        long before = d.memoryInfo().usedBytes();
        try (Buffer buf = d.allocate(16)) {
            assertEquals(before + 16, d.memoryInfo().usedBytes());
            ByteBuffer src = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 0x1122334455667788L);
            buf.copyFromHost(4, src);
            ByteBuffer dst = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);
            try (Stream s = d.createStream()) {
                buf.copyToHostAsync(4, dst, s);
                s.synchronize();
            }
            assertEquals(0x1122334455667788L, dst.getLong(0));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.copyToHost(12, ByteBuffer.allocate(8)));
        }
        assertEquals(before, d.memoryInfo().usedBytes());
        assertTrue(d.memoryInfo().peakBytes() >= 16);
    }

    @Test
    void memoryCapMakesAllocationFailLikeAFullDevice() {
        CpuBackend b = new CpuBackend(1);
        CpuDevice d = b.device(0);
        d.setMemoryCap(1024);
        try (Scope scope = Scope.open()) {
            Tensor.empty(d, DType.FP32, Shape.of(200));
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> Tensor.empty(d, DType.FP32, Shape.of(200)));
            assertTrue(e.getMessage().contains("cpu:0"), e.getMessage());
        }
        assertEquals(0, d.memoryInfo().usedBytes(), "the failed allocation must not stay counted");
    }

    @Test
    void eventsTimeWorkBetweenThem() throws Exception {
        CpuDevice d = new CpuBackend(1).device(0);
        Stream s = d.defaultStream();
        try (Event start = d.createEvent(); Event end = d.createEvent()) {
            start.record(s);
            Thread.sleep(5);
            end.record(s);
            s.waitEvent(end);
            end.synchronize();
            assertTrue(end.isCompleted());
            assertTrue(end.elapsedMillisSince(start) >= 4f);
        }
        Event e = d.createEvent();
        e.close();
        assertThrows(IllegalStateException.class, () -> e.record(s));
    }

    @Test
    void closedStreamRejectsWorkAndTensorsOfOtherBackendsAreRefused() {
        CpuBackend b = new CpuBackend(1);
        Stream s = b.device(0).createStream();
        s.close();
        assertThrows(IllegalStateException.class, s::synchronize);
        CpuBackend other = new CpuBackend(1);
        assertThrows(IllegalArgumentException.class, () -> b.ops(other.device(0).defaultStream()));
    }

    @Test
    void tensorsOnCpuDevicesRoundTripAllDtypes() {
        CpuDevice d = new CpuBackend(1).device(0);
        try (Scope scope = Scope.open()) {
            for (DType t : new DType[] {DType.FP32, DType.FP16, DType.BF16}) {
                Tensor x = Tensor.fromFloats(d, t, Shape.of(2, 2), 1, -2, 0.5f, 3);
                assertArrayEquals(new float[] {1, 0.5f, -2, 3}, x.transpose(0, 1).toFloatArray());
            }
            Tensor ids = Tensor.fromInts(d, Shape.of(3), 3, 1, 2);
            assertArrayEquals(new int[] {3, 1, 2}, Indices.read(ids));
            assertArrayEquals(new int[] {9, 8}, Indices.read(Tensor.fromLongs(d, Shape.of(2), 9, 8)));
        }
    }
}
