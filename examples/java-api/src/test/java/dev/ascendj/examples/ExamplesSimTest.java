package dev.ascendj.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.acl.Cann;
import dev.ascendj.ascend.AscendBackend;
import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Both example programs, unchanged, over the simulated CANN through the real JNI glue (the
 * surefire execution "simulator": ASCENDJ_CANN=simulator, a 910A with two NPUs). They share the
 * process's one Ascend backend: ACL is initialised once per process.
 */
class ExamplesSimTest {
    private Backend ascend;

    @BeforeEach
    void simulator() {
        Assumptions.assumeTrue(Cann.isSimulator() && Cann.isAvailable(), "run by the simulator execution");
        ascend = Backends.get(AscendBackend.NAME);
    }

    @Test
    void theBindingApiProgramOfTheDocsRunsOverTheSimulator() throws Exception {
        NpuHello.Result r = NpuHello.run((AscendBackend) ascend);
        assertArrayEquals(new float[] {4, 5, 10, 11}, r.y());
        assertArrayEquals(r.y(), r.pinnedCopy(), "the pinned copy holds y");
        // rmsnorm([4, 5]) = [4, 5] / sqrt(20.5); FP16 results
        float inv0 = (float) (1 / Math.sqrt((16 + 25) / 2.0));
        float inv1 = (float) (1 / Math.sqrt((100 + 121) / 2.0));
        assertArrayEquals(new float[] {4 * inv0, 5 * inv0, 10 * inv1, 11 * inv1}, r.normed(), 2e-3f);
        assertArrayEquals(new float[] {11, 22, 33}, r.allReduced());
    }

    @Test
    void theDeviceApiExampleRunsOnTheAscendBackendUnchanged() {
        JavaApiExample.Result r = JavaApiExample.run(ascend);
        assertEquals("ascend", r.backend());
        assertEquals(2, r.devices());
        // x(0) @ w, computed by the simulated 910A's cube units (FP32 inputs in FP16: exact here)
        assertArrayEquals(new float[] {4, 5, 10, 11}, r.product(), 1e-5f);
        assertArrayEquals(new float[] {12, 15, 30, 33}, r.reduced(), 1e-5f);
    }
}
