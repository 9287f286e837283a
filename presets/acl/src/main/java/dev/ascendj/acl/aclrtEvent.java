package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * ACL's {@code aclrtEvent} handle: an event, a marker recorded in a stream. In C it is a {@code void*}; this class keeps it a type of its
 * own in Java so that handles cannot be mixed up. Created by {@link dev.ascendj.acl.global.acl#aclrtCreateEvent},
 * released by {@link dev.ascendj.acl.global.acl#aclrtDestroyEvent}.
 */
@Name("void")
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.acl.class)
public class aclrtEvent extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclrtEvent() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclrtEvent(Pointer p) {
        super(p);
    }
}
