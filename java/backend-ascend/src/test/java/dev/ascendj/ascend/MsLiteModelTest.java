package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.ascendj.ascend.spi.MsLiteApi;
import dev.ascendj.ascend.spi.MsLiteApi.Status;
import dev.ascendj.ascend.spi.MsLiteApi.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.InOrder;

class MsLiteModelTest {
    private static final Status OK = new Status(0, "");

    private MsLiteApi api(Status build) {
        MsLiteApi api = mock(MsLiteApi.class);
        when(api.createContext(anyInt(), eq(true), anyInt(), anyInt(), any(Boolean.class))).thenReturn(7L);
        when(api.createModel()).thenReturn(9L);
        when(api.buildFromFile(anyLong(), anyString(), anyInt(), anyLong())).thenReturn(build);
        when(api.buildFromBuffer(anyLong(), any(), anyInt(), anyLong())).thenReturn(build);
        when(api.inputs(9L)).thenReturn(List.of(new TensorInfo("x", MsLiteApi.FLOAT32, new long[] {2}, 8)));
        when(api.outputs(9L)).thenReturn(List.of(new TensorInfo("y", MsLiteApi.FLOAT32, new long[] {2}, 8)));
        when(api.predict(9L)).thenReturn(OK);
        return api;
    }

    @Test
    void buildsForAnNpuPredictsAndReleasesModelThenContext(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("m.mindir"), new byte[] {1, 2, 3});
        MsLiteApi api = api(OK);
        doAnswer(inv -> {
            ByteBuffer dst = inv.getArgument(2);
            dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 3f).putFloat(4, 4f);
            return null;
        }).when(api).readOutput(eq(9L), eq(0), any());
        try (MsLiteModel m = MsLiteModel.load(api, file, MsLiteModel.Options.ascend(3))) {
            verify(api).createContext(2, true, 3, 0, false);
            verify(api).buildFromFile(9L, file.toAbsolutePath().toString(), MsLiteApi.MINDIR, 7L);
            assertEquals("x", m.inputs().get(0).name());
            float[][] out = m.predict(new float[] {1f, 2f});
            assertArrayEquals(new float[] {3f, 4f}, out[0]);
            assertThrows(IllegalArgumentException.class, () -> m.predict(new float[] {1f, 2f, 3f}), "wrong input size");
        }
        InOrder order = inOrder(api);
        order.verify(api).destroyModel(9L);
        order.verify(api).destroyContext(7L);
    }

    @Test
    void aFailedBuildReportsTheStatusAndReleasesEverything() {
        MsLiteApi api = api(new Status(0xF0000000 | (0x0FFFFFFF & -200), "graph file error"));
        MsLiteException e = assertThrows(MsLiteException.class,
                () -> MsLiteModel.load(api, new byte[] {0}, MsLiteModel.Options.ascend(0)));
        assertTrue(e.getMessage().contains("graph file error") && e.getMessage().contains("0xffffff38"), e.getMessage());
        verify(api).destroyModel(9L);
        verify(api).destroyContext(7L);
    }

    @Test
    void aMissingFileIsReportedBeforeAnythingIsCreated() {
        MsLiteApi api = mock(MsLiteApi.class);
        assertThrows(IllegalArgumentException.class,
                () -> MsLiteModel.load(api, Path.of("does-not-exist.mindir"), MsLiteModel.Options.cpu(1)));
        verify(api, org.mockito.Mockito.never()).createContext(anyInt(), any(Boolean.class), anyInt(), anyInt(),
                any(Boolean.class));
    }
}
