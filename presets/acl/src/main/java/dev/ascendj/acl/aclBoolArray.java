package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclBoolArray}: an array of bool values. Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateBoolArray}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyBoolArray}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclBoolArray extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclBoolArray() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclBoolArray(Pointer p) {
        super(p);
    }
}
