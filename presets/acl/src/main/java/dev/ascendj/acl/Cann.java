package dev.ascendj.acl;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the native side of a CANN binding once and turns every way that can fail into a
 * {@link CannNotFoundException}: the JNI library was not built (no toolkit where the jar was built),
 * {@code libascendcl.so} and friends are not on the library path ({@code set_env.sh} not sourced),
 * or the driver is missing. Call it before touching {@link dev.ascendj.acl.global.acl},
 * {@link dev.ascendj.acl.global.aclnn} or the HCCL classes, whose static initialisers otherwise fail
 * with a bare {@link UnsatisfiedLinkError}.
 *
 * <pre>{@code
 * Cann.load();                       // throws CannNotFoundException with a clear message
 * acl.aclInit(null);
 * }</pre>
 */
public final class Cann {
    /** The environment variable that {@code set_env.sh} sets to the toolkit's root. */
    public static final String TOOLKIT_HOME_ENV = "ASCEND_TOOLKIT_HOME";

    private static final Map<String, Throwable> FAILURES = new ConcurrentHashMap<>();
    private static final Map<String, Boolean> LOADED = new ConcurrentHashMap<>();

    private Cann() {
    }

    /** Loads the ACL runtime and aclnn bindings. */
    public static void load() {
        load("dev.ascendj.acl.global.acl");
        load("dev.ascendj.acl.global.aclnn");
    }

    /**
     * Loads the JavaCPP class {@code className} (a class whose static initialiser calls
     * {@link Loader#load()}), reporting any failure as {@link CannNotFoundException}. Results are
     * cached: a second call fails or succeeds as the first did.
     */
    public static void load(String className) {
        if (LOADED.containsKey(className)) {
            return;
        }
        Throwable failed = FAILURES.get(className);
        if (failed == null) {
            try {
                Class<?> c = Class.forName(className, false, Cann.class.getClassLoader());
                Loader.load(c);
                Class.forName(className, true, Cann.class.getClassLoader());
                LOADED.put(className, Boolean.TRUE);
                return;
            } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
                failed = e;
                FAILURES.put(className, e);
            }
        }
        throw new CannNotFoundException(failed);
    }

    /** True when {@link #load()} succeeds. */
    public static boolean isAvailable() {
        try {
            load();
            return true;
        } catch (CannNotFoundException e) {
            return false;
        }
    }

    /** The toolkit root from {@code ASCEND_TOOLKIT_HOME}, or the default install location. */
    public static String toolkitHome() {
        String env = System.getenv(TOOLKIT_HOME_ENV);
        return env != null && !env.isBlank() ? env : dev.ascendj.acl.presets.acl.DEFAULT_TOOLKIT_HOME;
    }
}
