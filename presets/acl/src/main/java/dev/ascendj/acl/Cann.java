package dev.ascendj.acl;

import java.net.URL;
import java.util.Locale;
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
 *
 * <p><b>The simulated CANN.</b> With {@code ASCENDJ_CANN=simulator} in the environment (or
 * {@code -Dascendj.cann=simulator}), the bindings load AscendJ's simulated CANN instead of an
 * installed toolkit: its four libraries and the JavaCPP glue built against them, which the jar
 * carries under {@value #SIMULATOR_RESOURCES}{@code <platform>/} (module
 * {@code native/simulator}). The same binding classes then run on host memory; see
 * docs/ascend.md for what the simulator proves and what only hardware can.
 */
public final class Cann {
    /** The environment variable that {@code set_env.sh} sets to the toolkit's root. */
    public static final String TOOLKIT_HOME_ENV = "ASCEND_TOOLKIT_HOME";
    /** The environment variable that selects the CANN implementation: {@value #SIMULATOR} or unset. */
    public static final String MODE_ENV = "ASCENDJ_CANN";
    /** The system property with the meaning of {@link #MODE_ENV}; it wins over the environment. */
    public static final String MODE_PROPERTY = "ascendj.cann";
    /** The value of {@link #MODE_ENV} that selects the simulated CANN. */
    public static final String SIMULATOR = "simulator";
    /** Where the simulated CANN's libraries are in the class path, followed by the JavaCPP platform. */
    public static final String SIMULATOR_RESOURCES = "dev/ascendj/cann/simulator/";

    /** Load order: each library's dependencies come before it, so that they resolve to these copies. */
    private static final String[] SIMULATOR_LIBRARIES = {
        "ascendcl", "nnopbase", "opapi", "hccl", "jniacl", "jniaclnn", "jnihccl"};

    private static final Map<String, Throwable> FAILURES = new ConcurrentHashMap<>();
    private static final Map<String, Boolean> LOADED = new ConcurrentHashMap<>();
    private static volatile RuntimeException simulatorFailure;
    private static volatile boolean simulatorLoaded;

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
        boolean simulator;
        try {
            simulator = isSimulator();
        } catch (IllegalArgumentException e) {
            throw new CannNotFoundException(e.getMessage(), e);
        }
        if (simulator) {
            loadSimulator();
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

    /**
     * Whether the simulated CANN is selected ({@code ASCENDJ_CANN=simulator} or
     * {@code -Dascendj.cann=simulator}).
     *
     * @throws IllegalArgumentException for any other value than {@value #SIMULATOR} or empty
     */
    public static boolean isSimulator() {
        String mode = System.getProperty(MODE_PROPERTY);
        String source = "-D" + MODE_PROPERTY;
        if (mode == null) {
            mode = System.getenv(MODE_ENV);
            source = MODE_ENV;
        }
        if (mode == null || mode.isBlank()) {
            return false;
        }
        if (mode.strip().toLowerCase(Locale.ROOT).equals(SIMULATOR)) {
            return true;
        }
        throw new IllegalArgumentException(source + "=" + mode + ": the only value is '" + SIMULATOR
                + "' (unset, the installed toolkit is used)");
    }

    /**
     * Loads the simulated CANN's libraries and glue from the class path, before JavaCPP looks for
     * the toolkit's: JavaCPP then finds every library already loaded and uses these.
     */
    private static synchronized void loadSimulator() {
        if (simulatorLoaded) {
            return;
        }
        if (simulatorFailure != null) {
            throw simulatorFailure;
        }
        String platform = Loader.getPlatform();
        String dir = SIMULATOR_RESOURCES + platform + "/";
        try {
            for (String lib : SIMULATOR_LIBRARIES) {
                String file = System.mapLibraryName(lib);
                URL url = Cann.class.getClassLoader().getResource(dir + file);
                if (url == null) {
                    throw new CannNotFoundException("CANN simulator not found: " + MODE_ENV + "=" + SIMULATOR
                            + ", but this AscendJ build carries no simulated CANN for " + platform + " (" + dir + file
                            + " is missing; it is built on Linux where cc and g++ are installed, see native/README.md)",
                            null);
                }
                Loader.loadLibrary(Cann.class, new URL[] {url}, lib);
            }
            simulatorLoaded = true;
        } catch (CannNotFoundException e) {
            simulatorFailure = e;
            throw e;
        } catch (LinkageError | RuntimeException e) {
            simulatorFailure = new CannNotFoundException("CANN simulator could not be loaded on " + platform + ": " + e,
                    e);
            throw simulatorFailure;
        }
    }

    /** The toolkit root from {@code ASCEND_TOOLKIT_HOME}, or the default install location. */
    public static String toolkitHome() {
        String env = System.getenv(TOOLKIT_HOME_ENV);
        return env != null && !env.isBlank() ? env : dev.ascendj.acl.presets.acl.DEFAULT_TOOLKIT_HOME;
    }
}
