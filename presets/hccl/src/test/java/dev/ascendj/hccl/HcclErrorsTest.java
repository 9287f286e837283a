package dev.ascendj.hccl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.acl.Cann;
import dev.ascendj.acl.CannNotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HcclErrorsTest {
    @Test
    void namesFollowTheDocumentedValues() {
        assertEquals("HCCL_SUCCESS", HcclErrors.name(0));
        assertEquals("HCCL_E_PARA", HcclErrors.name(1));
        assertEquals("HCCL_E_TIMEOUT", HcclErrors.name(9));
        assertEquals("HCCL_E_RUNTIME", HcclErrors.name(15));
        assertEquals("HCCL_E_OOM", HcclErrors.name(24));
        assertEquals("HCCL_E_IN_STATUS", HcclErrors.name(1041));
        assertEquals("UNKNOWN_HCCL_RESULT_99", HcclErrors.name(99));
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "ASCEND_TOOLKIT_HOME", matches = ".+")
    void loadingWithoutAToolkitReportsCannNotFound() {
        CannNotFoundException e = assertThrows(CannNotFoundException.class, () -> Cann.load("dev.ascendj.hccl.global.hccl"));
        assertEquals(CannNotFoundException.MESSAGE, e.getMessage());
    }
}
