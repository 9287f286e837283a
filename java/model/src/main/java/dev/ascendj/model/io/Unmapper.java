package dev.ascendj.model.io;

import dev.ascendj.core.Log;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import org.apache.logging.log4j.Logger;

/**
 * Releases a mapping that was made for one copy and is not referenced anywhere else. Without
 * this, mapped chunks stay mapped (and their pages count as resident) until the garbage
 * collector finds the small heap objects behind them, which may be never during a load: loading
 * a 13 GB checkpoint would look like it doubled the memory. Uses {@code sun.misc.Unsafe.invokeCleaner}
 * (module jdk.unsupported) through reflection; where it is missing, mappings are left to the GC.
 */
final class Unmapper {
    private static final Logger LOG = Log.get(Unmapper.class);
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method m = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            m = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("cannot unmap buffers explicitly; mappings are released by the GC", e);
            unsafe = null;
            m = null;
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = m;
    }

    private Unmapper() {
    }

    /**
     * Unmaps {@code mapped} now. The caller guarantees that no view of it (duplicate, slice) is
     * used afterwards: touching an unmapped buffer crashes the JVM.
     */
    static void unmap(ByteBuffer mapped) {
        if (INVOKE_CLEANER == null || !mapped.isDirect()) {
            return;
        }
        try {
            INVOKE_CLEANER.invoke(UNSAFE, mapped);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("explicit unmap failed; left to the GC", e);
        }
    }
}
