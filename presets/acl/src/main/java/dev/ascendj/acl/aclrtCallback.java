package dev.ascendj.acl;

import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * A host function that a stream calls when the work before it has completed
 * ({@code typedef void (*aclrtCallback)(void* userData)}), for
 * {@link dev.ascendj.acl.global.acl#aclrtLaunchCallback}. Subclass it and override {@link #call}.
 */
@Properties(inherit = dev.ascendj.acl.presets.acl.class)
public class aclrtCallback extends FunctionPointer {
    static {
        Loader.load();
    }

    /** Views an existing function pointer. */
    public aclrtCallback(Pointer p) {
        super(p);
    }

    /** Allocates a native thunk that calls {@link #call}. */
    protected aclrtCallback() {
        allocate();
    }

    private native void allocate();

    /** Called by the runtime with the user data given to {@code aclrtLaunchCallback}. */
    public native void call(Pointer userData);
}
