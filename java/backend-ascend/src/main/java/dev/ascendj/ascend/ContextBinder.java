package dev.ascendj.ascend;

/**
 * ACL's thread rule: runtime calls act on the calling thread's current context, and a thread
 * starts with none. Every wrapper call that touches a device first {@linkplain #bind binds} the
 * device's context to the calling thread; the binding is remembered per thread so that
 * {@code aclrtSetCurrentContext} is only called when a thread switches devices. Programs that
 * also call {@code aclrtSetCurrentContext} through the raw bindings must call
 * {@link NpuDevice#makeCurrent()} afterwards.
 */
final class ContextBinder {
    /** The device whose context the thread has current (identity, so a reused address cannot fool it). */
    private static final ThreadLocal<NpuDevice> CURRENT = new ThreadLocal<>();

    private ContextBinder() {
    }

    static void bind(NpuDevice device) {
        if (CURRENT.get() != device) {
            AclException.check(device.api(), device.api().setCurrentContext(device.contextHandle()),
                    "aclrtSetCurrentContext");
            CURRENT.set(device);
        }
    }

    /** Records that creating {@code device}'s context made it current on this thread. */
    static void created(NpuDevice device) {
        CURRENT.set(device);
    }

    /** Forgets {@code device} on this thread (it is being destroyed). */
    static void forget(NpuDevice device) {
        if (CURRENT.get() == device) {
            CURRENT.remove();
        }
    }

    /** Forces the next {@link #bind} on this thread to call {@code aclrtSetCurrentContext}. */
    static void invalidate() {
        CURRENT.remove();
    }
}
