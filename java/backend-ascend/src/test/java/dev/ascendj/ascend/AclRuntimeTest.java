package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.isNull;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.ascendj.ascend.spi.AclApi;
import org.junit.jupiter.api.Test;

class AclRuntimeTest {
    @Test
    void initialisesOnceAndFinalizesWhenTheLastUserCloses() {
        AclApi api = mock(AclApi.class);
        AclRuntime a = AclRuntime.acquire(api);
        AclRuntime b = AclRuntime.acquire(api);
        assertSame(a, b);
        verify(api, times(1)).init(isNull());
        a.close();
        verify(api, never()).finalizeAcl();
        b.close();
        verify(api, times(1)).finalizeAcl();
    }

    @Test
    void refusesToInitialiseAgainAfterFinalize() {
        AclApi api = mock(AclApi.class);
        AclRuntime.acquire(api).close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AclRuntime.acquire(api));
        assertTrue(e.getMessage().contains("cannot be initialised again"), e.getMessage());
    }

    @Test
    void leavesAnInitialisationItDidNotMakeToItsOwner() {
        AclApi api = mock(AclApi.class);
        when(api.init(any())).thenReturn(100002); // ACL_ERROR_REPEAT_INITIALIZE
        AclRuntime.acquire(api).close();
        verify(api, never()).finalizeAcl();
    }

    @Test
    void initFailureBecomesAnAclExceptionWithCodeNameAndRuntimeMessage() {
        AclApi api = mock(AclApi.class);
        when(api.init(any())).thenReturn(100003);
        when(api.recentErrMsg()).thenReturn("EE9999: config file unreadable\n");
        AclException e = assertThrows(AclException.class, () -> AclRuntime.acquire(api));
        assertEquals("aclInit", e.call());
        assertEquals(100003, e.code());
        assertEquals("ACL_ERROR_INVALID_FILE", e.codeName());
        assertEquals("EE9999: config file unreadable", e.recentErrorMessage());
        assertEquals("aclInit failed: ACL_ERROR_INVALID_FILE (100003): EE9999: config file unreadable", e.getMessage());
    }

    @Test
    void countsDevices() {
        AclApi api = mock(AclApi.class);
        when(api.getDeviceCount(any())).thenAnswer(inv -> {
            ((int[]) inv.getArgument(0))[0] = 8;
            return 0;
        });
        try (AclRuntime rt = AclRuntime.acquire(api)) {
            assertEquals(8, rt.deviceCount());
        }
    }
}
