package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclFloatArray}: an array of float values. Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateFloatArray}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyFloatArray}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclFloatArray extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclFloatArray() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclFloatArray(Pointer p) {
        super(p);
    }
}
