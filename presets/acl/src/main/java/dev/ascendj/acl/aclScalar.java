package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclScalar}: a host scalar with its data type. Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateScalar}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyScalar}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclScalar extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclScalar() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclScalar(Pointer p) {
        super(p);
    }
}
