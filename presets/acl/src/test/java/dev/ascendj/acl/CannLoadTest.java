package dev.ascendj.acl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;

/** Loading the bindings without a toolkit fails with one clear message. */
class CannLoadTest {
    @Test
    @DisabledIfEnvironmentVariable(named = "ASCEND_TOOLKIT_HOME", matches = ".+")
    @DisabledIfEnvironmentVariable(named = "ASCENDJ_CANN", matches = ".+")
    void loadingWithoutAToolkitReportsCannNotFound() {
        CannNotFoundException e = assertThrows(CannNotFoundException.class, Cann::load);
        assertEquals("CANN not found: set ASCEND_TOOLKIT_HOME or source set_env.sh"
                + " (without an NPU: ASCENDJ_CANN=simulator runs over the simulated CANN)", e.getMessage());
        assertNotNull(e.getCause(), "the cause says which library failed to load");
        assertFalse(Cann.isAvailable());
        // A second attempt fails the same way instead of with NoClassDefFoundError.
        CannNotFoundException again = assertThrows(CannNotFoundException.class, Cann::load);
        assertSame(e.getCause(), again.getCause());
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "ASCEND_TOOLKIT_HOME", matches = ".+")
    @DisabledIfEnvironmentVariable(named = "ASCENDJ_CANN", matches = ".+")
    void toolkitHomeDefaultsToTheStandardLayout() {
        assertEquals("/usr/local/Ascend/ascend-toolkit/latest", Cann.toolkitHome());
    }

    @Test
    @EnabledIfEnvironmentVariable(named = "ASCEND_TOOLKIT_HOME", matches = ".+")
    void toolkitHomeFollowsTheEnvironment() {
        assertEquals(System.getenv("ASCEND_TOOLKIT_HOME"), Cann.toolkitHome());
    }
}
