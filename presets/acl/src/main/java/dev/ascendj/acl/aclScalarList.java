package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclScalarList}: a list of scalars. Obtained from {@link dev.ascendj.acl.global.aclnn#aclCreateScalarList}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyScalarList}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclScalarList extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclScalarList() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclScalarList(Pointer p) {
        super(p);
    }
}
