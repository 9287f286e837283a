package dev.ascendj.ascend;

import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.hccl.global.hccl;

/**
 * AscendJ's dtypes and reduce operators as HCCL's enum values. HCCL numbers its data types
 * differently from ACL (FP32 is 4 in {@code HcclDataType} but 0 in {@code aclDataType}); mixing
 * them up would reduce garbage, so the two mappings live in separate classes.
 */
public final class HcclTypes {
    private HcclTypes() {
    }

    /** The {@code HcclDataType} of {@code t}. */
    public static int dataType(DType t) {
        return switch (t) {
            case FP32 -> hccl.HCCL_DATA_TYPE_FP32;
            case FP16 -> hccl.HCCL_DATA_TYPE_FP16;
            case BF16 -> hccl.HCCL_DATA_TYPE_BFP16;
            case INT8 -> hccl.HCCL_DATA_TYPE_INT8;
            case UINT8 -> hccl.HCCL_DATA_TYPE_UINT8;
            case INT32 -> hccl.HCCL_DATA_TYPE_INT32;
            case INT64 -> hccl.HCCL_DATA_TYPE_INT64;
            case NF4 -> throw new IllegalArgumentException("HCCL cannot reduce packed NF4 tensors");
        };
    }

    /** The {@code HcclReduceOp} of {@code op}. */
    public static int reduceOp(ReduceOp op) {
        return switch (op) {
            case SUM -> hccl.HCCL_REDUCE_SUM;
            case PROD -> hccl.HCCL_REDUCE_PROD;
            case MAX -> hccl.HCCL_REDUCE_MAX;
            case MIN -> hccl.HCCL_REDUCE_MIN;
        };
    }
}
