package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclIntArray}: an array of int64 values (dimensions, axes). Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateIntArray}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyIntArray}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclIntArray extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclIntArray() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclIntArray(Pointer p) {
        super(p);
    }
}
