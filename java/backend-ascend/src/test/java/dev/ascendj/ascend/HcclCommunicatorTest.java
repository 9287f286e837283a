package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mockito.InOrder;

/** The Communicator SPI on a mocked HCCL: type and operator mapping, counts, addresses, errors, lifetime. */
class HcclCommunicatorTest {
    private static final long COMM = 0xC0FFEEL;

    private FakeNpu npu;
    private Scope scope;
    private NpuDevice device;
    private HcclApi hccl;

    @BeforeEach
    void setUp() {
        npu = FakeNpu.b910();
        scope = Scope.open();
        device = npu.device();
        hccl = mock(HcclApi.class);
        when(hccl.commInitRootInfo(anyInt(), any(), anyInt(), any())).thenAnswer(inv -> {
            ((long[]) inv.getArgument(3))[0] = COMM;
            return 0;
        });
        when(hccl.getRankId(eq(COMM), any())).thenAnswer(inv -> {
            ((int[]) inv.getArgument(1))[0] = 1;
            return 0;
        });
        when(hccl.getRankSize(eq(COMM), any())).thenAnswer(inv -> {
            ((int[]) inv.getArgument(1))[0] = 4;
            return 0;
        });
    }

    @AfterEach
    void tearDown() {
        scope.close();
        npu.close();
    }

    private HcclCommunicator join() {
        return HcclCommunicator.fromRootInfo(hccl, device, 4, new byte[HcclApi.ROOT_INFO_BYTES], 1);
    }

    private static long address(Tensor t) {
        return ((DeviceBuffer) t.buffer()).address() + t.byteOffset();
    }

    /** HCCL numbers its dtypes differently from ACL: FP32 is 4 here, 0 in aclDataType. */
    @ParameterizedTest
    @CsvSource({"FP32, 4", "FP16, 3", "BF16, 11", "INT8, 0", "UINT8, 7", "INT32, 2", "INT64, 5"})
    void dataTypesMapToHcclValues(DType dtype, int hcclType) {
        assertEquals(hcclType, HcclTypes.dataType(dtype));
        try (HcclCommunicator c = join()) {
            Tensor t = Tensor.zeros(device, dtype, Shape.of(6));
            c.allReduce(t, t, ReduceOp.SUM);
            verify(hccl).allReduce(address(t), address(t), 6, hcclType, 0, COMM, device.defaultStream().handle());
        }
    }

    @ParameterizedTest
    @CsvSource({"SUM, 0", "PROD, 1", "MAX, 2", "MIN, 3"})
    void reduceOperatorsMapToHcclValues(ReduceOp op, int hcclOp) {
        assertEquals(hcclOp, HcclTypes.reduceOp(op));
        try (HcclCommunicator c = join()) {
            Tensor in = Tensor.zeros(device, DType.FP32, Shape.of(8));
            Tensor out = Tensor.zeros(device, DType.FP32, Shape.of(2));
            c.reduceScatter(in, out, op);
            verify(hccl).reduceScatter(address(in), address(out), 2, 4, hcclOp, COMM, device.defaultStream().handle());
        }
    }

    @Test
    void rankQueriesAndCollectiveCounts() {
        try (HcclCommunicator c = join()) {
            assertEquals(1, c.rank());
            assertEquals(4, c.size());
            Tensor in = Tensor.zeros(device, DType.FP16, Shape.of(3));
            Tensor out = Tensor.zeros(device, DType.FP16, Shape.of(4, 3));
            c.allGather(in, out);
            verify(hccl).allGather(address(in), address(out), 3, 3, COMM, device.defaultStream().handle());
            Tensor row = out.slice(0, 2, 3);
            c.broadcast(row, 0);
            verify(hccl).broadcast(address(out) + 2 * 3 * 2, 3, 3, 0, COMM, device.defaultStream().handle());
            c.send(in, 3);
            c.recv(in, 0);
            verify(hccl).send(address(in), 3, 3, 3, COMM, device.defaultStream().handle());
            verify(hccl).recv(address(in), 3, 3, 0, COMM, device.defaultStream().handle());
            assertThrows(IllegalArgumentException.class, () -> c.allGather(in, in), "out must hold size x in");
            assertThrows(IllegalArgumentException.class, () -> c.send(in, 4), "rank outside the group");
            assertThrows(IllegalArgumentException.class, () -> c.allReduce(out.transpose(0, 1), out.transpose(0, 1),
                    ReduceOp.SUM), "not contiguous");
        }
    }

    @Test
    void aFailingCollectiveRaisesAnHcclExceptionWithNameAndDescription() {
        when(hccl.allReduce(anyLong(), anyLong(), anyLong(), anyInt(), anyInt(), anyLong(), anyLong())).thenReturn(9);
        when(hccl.errorString(9)).thenReturn("timeout waiting for rank 2");
        npu.acl.errorMessage = "EI0002: rank 2 did not answer within HCCL_EXEC_TIMEOUT";
        try (HcclCommunicator c = join()) {
            Tensor t = Tensor.zeros(device, DType.FP32, Shape.of(2));
            HcclException e = assertThrows(HcclException.class, () -> c.allReduce(t, t, ReduceOp.MAX));
            assertTrue(e instanceof CommunicatorException);
            assertEquals("HCCL_E_TIMEOUT", e.codeName());
            assertEquals("HcclAllReduce failed: HCCL_E_TIMEOUT (9): timeout waiting for rank 2; "
                    + "EI0002: rank 2 did not answer within HCCL_EXEC_TIMEOUT", e.getMessage(),
                    "the description and the runtime's recent message");
        }
    }

    @Test
    void barrierWaitsForTheStreamAndCloseDestroysTheCommunicator() {
        HcclCommunicator c = join();
        c.barrier();
        verify(hccl).barrier(COMM, device.defaultStream().handle());
        assertTrue(npu.acl.log.get(npu.acl.log.size() - 1).startsWith("aclrtSynchronizeStream"));
        c.close();
        c.close();
        verify(hccl).commDestroy(COMM);
        assertThrows(IllegalStateException.class, c::barrier);
    }

    @Test
    void aCommunicatorWhoseRankQueryFailsIsDestroyed() {
        when(hccl.getRankSize(eq(COMM), any())).thenReturn(4);
        assertThrows(HcclException.class, this::join);
        verify(hccl).commDestroy(COMM);
    }

    @Test
    void initFailureLeavesNothingToDestroy() {
        when(hccl.commInitClusterInfo(any(), anyInt(), any())).thenReturn(10);
        HcclException e = assertThrows(HcclException.class,
                () -> HcclCommunicator.fromRankTable(hccl, device, Path.of("rank_table.json"), 0));
        assertEquals("HCCL_E_OPEN_FILE_FAILURE", e.codeName());
        verify(hccl, never()).commDestroy(anyLong());
    }

    @Test
    void rootInfoIsObtainedWithTheDeviceContextBound() {
        InOrder order = inOrder(hccl);
        byte[] info = HcclCommunicator.rootInfo(hccl, device);
        assertEquals(4108, info.length);
        order.verify(hccl).getRootInfo(info);
        assertThrows(IllegalArgumentException.class,
                () -> HcclCommunicator.fromRootInfo(hccl, device, 2, new byte[10], 0));
    }

    @Test
    void theBackendBuildsOneCommunicatorPerDeviceWithCommInitAll() {
        try (FakeNpu two = new FakeNpu("Ascend910A", 2)) {
            HcclApi api = mock(HcclApi.class);
            when(api.commInitAll(any(), any())).thenAnswer(inv -> {
                long[] c = inv.getArgument(1);
                c[0] = 100;
                c[1] = 200;
                return 0;
            });
            when(api.getRankId(anyLong(), any())).thenAnswer(inv -> {
                ((int[]) inv.getArgument(1))[0] = inv.<Long>getArgument(0) == 100 ? 0 : 1;
                return 0;
            });
            when(api.getRankSize(anyLong(), any())).thenAnswer(inv -> {
                ((int[]) inv.getArgument(1))[0] = 2;
                return 0;
            });
            AscendBackend b = new AscendBackend(two.acl, two.aclnn, () -> api);
            List<dev.ascendj.core.Communicator> comms = b.communicators(List.of(b.device(0), b.device(1)));
            verify(api).commInitAll(new int[] {0, 1}, new long[] {100, 200});
            assertEquals(1, comms.get(1).rank());
            assertEquals(2, comms.get(0).size());
            comms.forEach(dev.ascendj.core.Communicator::close);
            verify(api).commDestroy(100);
            verify(api).commDestroy(200);
            b.close();
        }
    }
}
