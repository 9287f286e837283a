package dev.ascendj.core;

/**
 * Service-provider interface for backends, registered in
 * {@code META-INF/services/dev.ascendj.core.BackendProvider}. Providers are cheap to create;
 * the backend itself is only built when asked for.
 */
public interface BackendProvider {
    /** The backend's name ({@code "cpu"}, {@code "ascend"}). */
    String name();

    /** Higher wins when no backend is named; the CPU backend has priority 0. */
    int priority();

    /** Whether the backend can run on this machine; when not, {@link #unavailableReason()} says why. */
    boolean isAvailable();

    /** Why the backend cannot run here (for example "CANN not found: set ASCEND_TOOLKIT_HOME ..."). */
    default String unavailableReason() {
        return "";
    }

    /** Builds the backend. */
    Backend create();
}
