package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/** ACL's opaque {@code aclDataBuffer}: a device address and a size, as the model and operator APIs take them. */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.acl.class)
public class aclDataBuffer extends Pointer {
    /** A null handle. */
    public aclDataBuffer() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclDataBuffer(Pointer p) {
        super(p);
    }
}
