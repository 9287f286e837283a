package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclTensor}: a tensor descriptor (shape, strides, offset, dtype, format and a device address). Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateTensor}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyTensor}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclTensor extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclTensor() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclTensor(Pointer p) {
        super(p);
    }
}
