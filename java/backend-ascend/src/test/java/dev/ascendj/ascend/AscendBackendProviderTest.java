package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.acl.CannNotFoundException;
import dev.ascendj.core.AscendjException;
import dev.ascendj.core.BackendProvider;
import dev.ascendj.core.Backends;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;

class AscendBackendProviderTest {
    @Test
    void isRegisteredAndOutranksTheCpuBackend() {
        List<BackendProvider> providers = Backends.providers();
        BackendProvider ascend = providers.stream().filter(p -> p.name().equals("ascend")).findFirst().orElseThrow();
        assertTrue(ascend.priority() > 0, "the CPU backend has priority 0");
        assertEquals(AscendBackendProvider.class, ascend.getClass());
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "ASCEND_TOOLKIT_HOME", matches = ".+")
    @DisabledIfEnvironmentVariable(named = "ASCENDJ_CANN", matches = ".+")
    void withoutCannItIsUnavailableAndSaysWhy() {
        AscendBackendProvider p = new AscendBackendProvider();
        assertFalse(p.isAvailable());
        assertEquals("CANN not found: set ASCEND_TOOLKIT_HOME or source set_env.sh"
                + " (without an NPU: ASCENDJ_CANN=simulator runs over the simulated CANN)", p.unavailableReason());
        AscendjException e = assertThrows(AscendjException.class, () -> Backends.get("ascend"));
        assertTrue(e.getMessage().contains("CANN not found"), e.getMessage());
        assertThrows(CannNotFoundException.class, AscendBackend::open);
    }
}
