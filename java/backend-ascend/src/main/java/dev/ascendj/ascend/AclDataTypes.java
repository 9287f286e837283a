package dev.ascendj.ascend;

import dev.ascendj.acl.global.acl;
import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;

/** AscendJ's dtypes as ACL's {@code aclDataType} values. */
public final class AclDataTypes {
    private AclDataTypes() {
    }

    /** The {@code aclDataType} of {@code t}; NF4 has none (it is packed bytes to ACL). */
    public static int of(DType t) {
        return switch (t) {
            case FP32 -> acl.ACL_FLOAT;
            case FP16 -> acl.ACL_FLOAT16;
            case BF16 -> acl.ACL_BF16;
            case INT8 -> acl.ACL_INT8;
            case UINT8 -> acl.ACL_UINT8;
            case INT32 -> acl.ACL_INT32;
            case INT64 -> acl.ACL_INT64;
            case NF4 -> throw new KernelException("aclDataType", "NF4 tensors have no ACL data type; "
                    + "view them as UINT8 bytes");
        };
    }
}
