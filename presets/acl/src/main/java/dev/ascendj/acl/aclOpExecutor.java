package dev.ascendj.acl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * aclnn's opaque {@code aclOpExecutor}: the executor an operator's GetWorkspaceSize call prepares and its execute call consumes. Obtained from {@link dev.ascendj.acl.global.aclnn#aclnnMatmulGetWorkspaceSize}; see
 * {@link dev.ascendj.acl.global.aclnn#aclDestroyAclOpExecutor}.
 */
@Opaque
@Properties(inherit = dev.ascendj.acl.presets.aclnn.class)
public class aclOpExecutor extends Pointer {
    /** A null handle, to be filled in by a create call. */
    public aclOpExecutor() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as this handle type. */
    public aclOpExecutor(Pointer p) {
        super(p);
    }
}
