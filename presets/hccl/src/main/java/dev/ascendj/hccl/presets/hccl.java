package dev.ascendj.hccl.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP configuration of the HCCL binding: {@code hccl/hccl.h} and {@code hccl/hccl_types.h}
 * under the toolkit's {@code include/}, linked against {@code libhccl}. Inherits the ACL runtime's
 * paths (HCCL collectives are enqueued on {@link dev.ascendj.acl.aclrtStream}s).
 */
@Properties(inherit = dev.ascendj.acl.presets.acl.class, value = @Platform(
        value = {"linux-x86_64", "linux-arm64"},
        include = {"hccl/hccl_types.h", "hccl/hccl.h"},
        link = "hccl"))
public class hccl {
}
