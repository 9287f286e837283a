package dev.ascendj.ascend;

import dev.ascendj.acl.Cann;
import org.junit.jupiter.api.Assumptions;

/**
 * The simulated CANN (module native/simulator) under the real JavaCPP glue, for the tests named
 * {@code *SimTest}: the surefire executions "simulator-910a" and "simulator-910b" of this module
 * run them with {@code ASCENDJ_CANN=simulator} and {@code ASCENDJ_SIM_SOC} set (see the pom).
 *
 * <p>ACL is initialised once per process and cannot be initialised again after
 * {@code aclFinalize}, so one {@link AscendBackend} serves the whole test run: opened when the
 * run starts and closed (devices reset, ACL finalized) when it ends, by {@link SimulatedCannSession}.
 */
final class SimulatedCann {
    private static AscendBackend backend;

    private SimulatedCann() {
    }

    /** Skips the calling test unless the simulated CANN is selected and loads. */
    static void assume() {
        Assumptions.assumeTrue(Cann.isSimulator(), "run by the simulator-* surefire executions (ASCENDJ_CANN=simulator)");
        Assumptions.assumeTrue(Cann.isAvailable(), "the simulated CANN was not built here (no cc or g++)");
    }

    /** The backend over the simulated CANN, shared by every test of the run. */
    static synchronized AscendBackend backend() {
        assume();
        if (backend == null) {
            backend = AscendBackend.open();
        }
        return backend;
    }

    /** Whether the simulated SoC is of the Atlas training series (910A: no fused operators, no BF16). */
    static boolean atlasTraining() {
        return Soc.of(backend().device(0).socName()).isAtlasTraining();
    }

    /** Closes the shared backend, if one was opened (end of the test run). */
    static synchronized void shutdown() {
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }
}
