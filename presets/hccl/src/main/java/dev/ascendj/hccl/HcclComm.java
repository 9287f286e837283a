package dev.ascendj.hccl;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * An HCCL communicator ({@code HcclComm}, a {@code void*} in C): one rank's membership in a group.
 * Created by {@link dev.ascendj.hccl.global.hccl#HcclCommInitRootInfo} or
 * {@link dev.ascendj.hccl.global.hccl#HcclCommInitClusterInfo}, released by
 * {@link dev.ascendj.hccl.global.hccl#HcclCommDestroy}.
 */
@Name("void")
@Opaque
@Properties(inherit = dev.ascendj.hccl.presets.hccl.class)
public class HcclComm extends Pointer {
    /** A null handle, to be filled in by an init call. */
    public HcclComm() {
        super((Pointer) null);
    }

    /** Views the address held by {@code p} as a communicator. */
    public HcclComm(Pointer p) {
        super(p);
    }
}
