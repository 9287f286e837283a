package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclTensorList}: a list of tensor descriptors. Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateTensorList}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyTensorList}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclTensorList extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclTensorList() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclTensorList(Pointer p) {
        super(p);
    }
}
