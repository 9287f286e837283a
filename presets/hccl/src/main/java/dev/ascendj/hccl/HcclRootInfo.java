package dev.ascendj.hccl;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * HCCL's root information ({@code struct HcclRootInfo { char internal[4108]; }}): rank 0 fills it
 * with {@link dev.ascendj.hccl.global.hccl#HcclGetRootInfo}, sends the
 * {@value #HCCL_ROOT_INFO_BYTES} bytes to the other ranks by any means, and every rank passes it to
 * {@link dev.ascendj.hccl.global.hccl#HcclCommInitRootInfo}.
 */
@Properties(inherit = dev.ascendj.hccl.presets.hccl.class)
public class HcclRootInfo extends Pointer {
    static {
        Loader.load();
    }

    /** Size of the opaque bytes ({@code HCCL_ROOT_INFO_BYTES}). */
    public static final int HCCL_ROOT_INFO_BYTES = 4108;

    /** Allocates a zeroed native struct. */
    public HcclRootInfo() {
        super((Pointer) null);
        allocate();
    }

    /** Views existing native memory as this struct. */
    public HcclRootInfo(Pointer p) {
        super(p);
    }

    private native void allocate();

    /** The opaque bytes, in place. */
    @MemberGetter
    public native @Cast("char*") BytePointer internal();

    /** Byte {@code i} of the opaque bytes. */
    public native @Cast("char") byte internal(int i);

    /** Sets byte {@code i} of the opaque bytes. */
    public native HcclRootInfo internal(int i, byte value);
}
