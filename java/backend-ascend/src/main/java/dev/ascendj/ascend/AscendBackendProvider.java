package dev.ascendj.ascend;

import dev.ascendj.acl.Cann;
import dev.ascendj.acl.CannNotFoundException;
import dev.ascendj.core.Backend;
import dev.ascendj.core.BackendProvider;

/**
 * Registers the Ascend backend with {@link java.util.ServiceLoader}. It outranks the CPU backend
 * (priority {@value #PRIORITY}) and is available when the CANN libraries and the JNI glue load;
 * otherwise {@link #unavailableReason()} says "CANN not found: set ASCEND_TOOLKIT_HOME or source
 * set_env.sh (...)" ({@link dev.ascendj.acl.CannNotFoundException#MESSAGE}). Availability only
 * loads libraries: ACL is initialised when the backend is created.
 */
public final class AscendBackendProvider implements BackendProvider {
    /** Above the CPU backend's 0. */
    public static final int PRIORITY = 100;

    private volatile String reason;

    @Override
    public String name() {
        return AscendBackend.NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public boolean isAvailable() {
        try {
            Cann.load();
            reason = "";
            return true;
        } catch (CannNotFoundException e) {
            reason = e.getMessage();
            return false;
        }
    }

    @Override
    public String unavailableReason() {
        if (reason == null) {
            isAvailable();
        }
        return reason;
    }

    @Override
    public Backend create() {
        return AscendBackend.open();
    }
}
