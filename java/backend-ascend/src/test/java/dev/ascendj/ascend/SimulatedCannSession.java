package dev.ascendj.ascend;

import dev.ascendj.acl.Cann;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Holds ACL open for a whole test run over the simulated CANN, so that a test class closing its
 * own backend (as {@link AscendHardwareTest} does) does not finalize ACL for the classes after it;
 * finalizes it when the run ends. Does nothing when the simulator is not selected.
 */
public final class SimulatedCannSession implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        try {
            if (Cann.isSimulator() && Cann.isAvailable()) {
                SimulatedCann.backend();
            }
        } catch (IllegalArgumentException e) {
            // a bad ASCENDJ_CANN: the tests that need the simulator report it themselves
        }
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        SimulatedCann.shutdown();
    }
}
