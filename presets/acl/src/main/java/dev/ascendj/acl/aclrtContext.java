package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * ACL's {@code aclrtContext} handle: a context, the per-thread binding to a device. In C it is a {@code void*}; this class keeps it a type of its
 * own in Java so that handles cannot be mixed up. Created by {@link dev.ascendj.acl.global.acl#aclrtCreateContext},
 * released by {@link dev.ascendj.acl.global.acl#aclrtDestroyContext}.
 */
@Name("void")
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.acl.class)
public class aclrtContext extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclrtContext() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclrtContext(Pointer p) {
        super(p);
    }
}
