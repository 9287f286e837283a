package dev.ascendj.ascend.spi;

/**
 * The HCCL calls AscendJ makes, one method per C function, with handles and device addresses as
 * {@code long}s. Methods return the raw {@code HcclResult}; {@link dev.ascendj.ascend.HcclCommunicator}
 * turns failures into {@link dev.ascendj.ascend.HcclException}. {@code dataType} and {@code op} are
 * HCCL's own enum values ({@code HcclDataType}, {@code HcclReduceOp}), which differ from ACL's.
 */
public interface HcclApi {
    /** Fills {@code rootInfo} (4108 bytes) on rank 0. */
    int getRootInfo(byte[] rootInfo);

    int commInitRootInfo(int nRanks, byte[] rootInfo, int rank, long[] comm);

    /** A communicator from a rank-table JSON file. */
    int commInitClusterInfo(String rankTablePath, int rank, long[] comm);

    /** One communicator per device of this process ({@code HcclCommInitAll}); {@code comms} receives them. */
    int commInitAll(int[] devices, long[] comms);

    int commDestroy(long comm);

    int getRankSize(long comm, int[] size);

    int getRankId(long comm, int[] rank);

    /** {@code HcclGetErrorString}, or null. */
    String errorString(int code);

    int allReduce(long sendBuf, long recvBuf, long count, int dataType, int op, long comm, long stream);

    int broadcast(long buf, long count, int dataType, int root, long comm, long stream);

    int reduceScatter(long sendBuf, long recvBuf, long recvCount, int dataType, int op, long comm, long stream);

    int allGather(long sendBuf, long recvBuf, long sendCount, int dataType, long comm, long stream);

    int send(long buf, long count, int dataType, int destRank, long comm, long stream);

    int recv(long buf, long count, int dataType, int srcRank, long comm, long stream);

    int barrier(long comm, long stream);

    /** Bytes of {@code HcclRootInfo}. */
    int ROOT_INFO_BYTES = 4108;
}
