package dev.ascendj.hccl.global;

import dev.ascendj.acl.aclrtStream;
import dev.ascendj.hccl.HcclComm;
import dev.ascendj.hccl.HcclRootInfo;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * HCCL ({@code hccl/hccl.h}, {@code libhccl}): communicators and collectives on device memory,
 * enqueued on ACL streams. Every function returns an {@code HcclResult} (0 is
 * {@link #HCCL_SUCCESS}; names in {@link dev.ascendj.hccl.HcclErrors}) unless the javadoc says
 * otherwise.
 *
 * <p>HCCL's data type values ({@code HcclDataType}) differ from ACL's {@code aclDataType}: FP32 is
 * {@link #HCCL_DATA_TYPE_FP32} = 4 here but {@code ACL_FLOAT} = 0 there.
 *
 * <p>Written by hand from the documented signatures. The {@code ...Config} variants of the init
 * functions are left out: {@code HcclCommConfig}'s layout changes between CANN versions and its
 * initialiser is a {@code static inline} function without a symbol.
 */
@Properties(inherit = dev.ascendj.hccl.presets.hccl.class)
public class hccl extends dev.ascendj.hccl.presets.hccl {
    static {
        Loader.load();
    }

    // ------------------------------------------------------------------ HcclResult

    public static final int HCCL_SUCCESS = 0;
    public static final int HCCL_E_PARA = 1;
    public static final int HCCL_E_PTR = 2;
    public static final int HCCL_E_MEMORY = 3;
    public static final int HCCL_E_INTERNAL = 4;
    public static final int HCCL_E_NOT_SUPPORT = 5;
    public static final int HCCL_E_NOT_FOUND = 6;
    public static final int HCCL_E_UNAVAIL = 7;
    public static final int HCCL_E_SYSCALL = 8;
    public static final int HCCL_E_TIMEOUT = 9;
    public static final int HCCL_E_OPEN_FILE_FAILURE = 10;
    public static final int HCCL_E_TCP_CONNECT = 11;
    public static final int HCCL_E_ROCE_CONNECT = 12;
    public static final int HCCL_E_TCP_TRANSFER = 13;
    public static final int HCCL_E_ROCE_TRANSFER = 14;
    public static final int HCCL_E_RUNTIME = 15;
    public static final int HCCL_E_DRV = 16;
    public static final int HCCL_E_PROFILING = 17;
    public static final int HCCL_E_CCE = 18;
    public static final int HCCL_E_NETWORK = 19;
    public static final int HCCL_E_AGAIN = 20;
    public static final int HCCL_E_REMOTE = 21;
    public static final int HCCL_E_SUSPENDING = 22;
    public static final int HCCL_E_OPRETRY_FAIL = 23;
    public static final int HCCL_E_OOM = 24;
    /** Only in newer toolkits (hcomm). */
    public static final int HCCL_E_IN_STATUS = 1041;

    // ------------------------------------------------------------------ HcclReduceOp

    public static final int HCCL_REDUCE_SUM = 0;
    public static final int HCCL_REDUCE_PROD = 1;
    public static final int HCCL_REDUCE_MAX = 2;
    public static final int HCCL_REDUCE_MIN = 3;
    public static final int HCCL_REDUCE_RESERVED = 255;

    // ------------------------------------------------------------------ HcclDataType

    public static final int HCCL_DATA_TYPE_INT8 = 0;
    public static final int HCCL_DATA_TYPE_INT16 = 1;
    public static final int HCCL_DATA_TYPE_INT32 = 2;
    public static final int HCCL_DATA_TYPE_FP16 = 3;
    public static final int HCCL_DATA_TYPE_FP32 = 4;
    public static final int HCCL_DATA_TYPE_INT64 = 5;
    public static final int HCCL_DATA_TYPE_UINT64 = 6;
    public static final int HCCL_DATA_TYPE_UINT8 = 7;
    public static final int HCCL_DATA_TYPE_UINT16 = 8;
    public static final int HCCL_DATA_TYPE_UINT32 = 9;
    public static final int HCCL_DATA_TYPE_FP64 = 10;
    public static final int HCCL_DATA_TYPE_BFP16 = 11;
    public static final int HCCL_DATA_TYPE_INT128 = 12;
    public static final int HCCL_DATA_TYPE_HIF8 = 14;
    public static final int HCCL_DATA_TYPE_FP8E4M3 = 15;
    public static final int HCCL_DATA_TYPE_FP8E5M2 = 16;
    public static final int HCCL_DATA_TYPE_FP8E8M0 = 17;
    public static final int HCCL_DATA_TYPE_RESERVED = 255;

    /** Bytes of {@link HcclRootInfo}. */
    public static final int HCCL_ROOT_INFO_BYTES = 4108;

    // ------------------------------------------------------------------ communicators

    /** A communicator from a rank-table JSON file ({@code clusterInfo} is its path). */
    public static native @Cast("HcclResult") int HcclCommInitClusterInfo(@Cast("const char*") String clusterInfo,
            @Cast("uint32_t") int rank, @ByPtrPtr HcclComm comm);

    /** Rank 0's root information, to be shared with the other ranks. */
    public static native @Cast("HcclResult") int HcclGetRootInfo(HcclRootInfo rootInfo);

    /** A communicator of {@code nRanks} ranks from the root information rank 0 shared. */
    public static native @Cast("HcclResult") int HcclCommInitRootInfo(@Cast("uint32_t") int nRanks,
            @Const HcclRootInfo rootInfo, @Cast("uint32_t") int rank, @ByPtrPtr HcclComm comm);

    /** One communicator per device of this process ({@code comms} receives {@code ndev} handles). */
    public static native @Cast("HcclResult") int HcclCommInitAll(@Cast("uint32_t") int ndev,
            @Cast("int32_t*") IntPointer devices, @Cast("HcclComm*") PointerPointer<HcclComm> comms);

    public static native @Cast("HcclResult") int HcclCommDestroy(HcclComm comm);

    public static native @Cast("HcclResult") int HcclGetRankSize(HcclComm comm, @Cast("uint32_t*") IntPointer rankSize);

    public static native @Cast("HcclResult") int HcclGetRankId(HcclComm comm, @Cast("uint32_t*") IntPointer rank);

    /** A description of {@code code}; returns a string, not an HcclResult. */
    public static native @Cast("const char*") String HcclGetErrorString(@Cast("HcclResult") int code);

    // ------------------------------------------------------------------ collectives

    public static native @Cast("HcclResult") int HcclAllReduce(Pointer sendBuf, Pointer recvBuf,
            @Cast("uint64_t") long count, @Cast("HcclDataType") int dataType, @Cast("HcclReduceOp") int op,
            HcclComm comm, aclrtStream stream);

    public static native @Cast("HcclResult") int HcclBroadcast(Pointer buf, @Cast("uint64_t") long count,
            @Cast("HcclDataType") int dataType, @Cast("uint32_t") int root, HcclComm comm, aclrtStream stream);

    /** {@code recvCount} is the element count each rank receives. */
    public static native @Cast("HcclResult") int HcclReduceScatter(Pointer sendBuf, Pointer recvBuf,
            @Cast("uint64_t") long recvCount, @Cast("HcclDataType") int dataType, @Cast("HcclReduceOp") int op,
            HcclComm comm, aclrtStream stream);

    /** {@code sendCount} is the element count each rank contributes. */
    public static native @Cast("HcclResult") int HcclAllGather(Pointer sendBuf, Pointer recvBuf,
            @Cast("uint64_t") long sendCount, @Cast("HcclDataType") int dataType, HcclComm comm, aclrtStream stream);

    public static native @Cast("HcclResult") int HcclSend(Pointer sendBuf, @Cast("uint64_t") long count,
            @Cast("HcclDataType") int dataType, @Cast("uint32_t") int destRank, HcclComm comm, aclrtStream stream);

    public static native @Cast("HcclResult") int HcclRecv(Pointer recvBuf, @Cast("uint64_t") long count,
            @Cast("HcclDataType") int dataType, @Cast("uint32_t") int srcRank, HcclComm comm, aclrtStream stream);

    public static native @Cast("HcclResult") int HcclBarrier(HcclComm comm, aclrtStream stream);
}
