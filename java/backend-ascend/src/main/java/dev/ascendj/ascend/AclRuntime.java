package dev.ascendj.ascend;

import dev.ascendj.acl.global.acl;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.Log;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.logging.log4j.Logger;

/**
 * ACL's process-wide initialisation: {@code aclInit} once per process, {@code aclFinalize} when the
 * last user closes it. ACL cannot be initialised again in a process after {@code aclFinalize}, so a
 * later {@link #acquire} fails with a clear message. When something else in the process (MindSpore,
 * another library) already initialised ACL, {@code aclInit} answers
 * {@code ACL_ERROR_REPEAT_INITIALIZE}; the runtime then uses ACL as it is and leaves finalisation
 * to its owner.
 *
 * <pre>{@code
 * try (AclRuntime rt = AclRuntime.acquire(JavaCppAclApi.instance())) {
 *     int n = rt.deviceCount();
 * }
 * }</pre>
 */
public final class AclRuntime implements AutoCloseable {
    private static final Logger LOG = Log.get(AclRuntime.class);

    /** One runtime per API implementation: the real one in production, a fresh fake per test. */
    private static final Map<AclApi, AclRuntime> RUNTIMES = new IdentityHashMap<>();
    private static final Map<AclApi, Boolean> FINALIZED = new IdentityHashMap<>();

    private final AclApi api;
    private final boolean ownsInit;
    private int users;

    private AclRuntime(AclApi api, boolean ownsInit) {
        this.api = api;
        this.ownsInit = ownsInit;
    }

    /** Initialises ACL on first use and returns the process's runtime; close it when done. */
    public static AclRuntime acquire(AclApi api) {
        synchronized (RUNTIMES) {
            AclRuntime rt = RUNTIMES.get(api);
            if (rt == null) {
                if (FINALIZED.containsKey(api)) {
                    throw new IllegalStateException("ACL was finalized in this process and cannot be initialised "
                            + "again; keep one AclRuntime (or AscendBackend) open for the life of the program");
                }
                int code = api.init(null);
                boolean owns = code == 0;
                if (code == acl.ACL_ERROR_REPEAT_INITIALIZE) {
                    LOG.debug("ACL was already initialised in this process; not finalizing it on close");
                } else {
                    AclException.check(api, code, "aclInit");
                }
                rt = new AclRuntime(api, owns);
                RUNTIMES.put(api, rt);
            }
            rt.users++;
            return rt;
        }
    }

    /** The native calls this runtime makes. */
    public AclApi api() {
        return api;
    }

    /** Number of NPUs visible to this process. */
    public int deviceCount() {
        int[] n = new int[1];
        AclException.check(api, api.getDeviceCount(n), "aclrtGetDeviceCount");
        return n[0];
    }

    /** Releases this user; the last one finalizes ACL. */
    @Override
    public void close() {
        synchronized (RUNTIMES) {
            if (users == 0) {
                return;
            }
            if (--users > 0) {
                return;
            }
            RUNTIMES.remove(api);
            FINALIZED.put(api, Boolean.TRUE);
            if (ownsInit) {
                AclException.check(api, api.finalizeAcl(), "aclFinalize");
            }
        }
    }
}
