package dev.ascendj.ascend.jcpp;

import static dev.ascendj.ascend.jcpp.Addresses.address;
import static dev.ascendj.ascend.jcpp.Addresses.ptr;

import dev.ascendj.acl.Cann;
import dev.ascendj.acl.aclrtStream;
import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.hccl.HcclComm;
import dev.ascendj.hccl.HcclRootInfo;
import dev.ascendj.hccl.global.hccl;
import org.bytedeco.javacpp.IntPointer;

/** {@link HcclApi} on the JavaCPP bindings of {@code presets/hccl}. */
public final class JavaCppHcclApi implements HcclApi {
    private static JavaCppHcclApi instance;

    /**
     * The process-wide instance (ACL is initialised once per process, and {@link
     * dev.ascendj.ascend.AclRuntime} counts its users per API object).
     *
     * @throws dev.ascendj.acl.CannNotFoundException when CANN or the JNI glue is missing
     */
    public static synchronized JavaCppHcclApi instance() {
        if (instance == null) {
            instance = new JavaCppHcclApi();
        }
        return instance;
    }

    /**
     * Loads the bindings.
     *
     * @throws dev.ascendj.acl.CannNotFoundException when CANN or the JNI glue is missing
     */
    public JavaCppHcclApi() {
        Cann.load("dev.ascendj.acl.global.acl");
        Cann.load("dev.ascendj.hccl.global.hccl");
    }

    private static HcclComm comm(long c) {
        return new HcclComm(ptr(c));
    }

    private static aclrtStream stream(long s) {
        return new aclrtStream(ptr(s));
    }

    @Override
    public int getRootInfo(byte[] rootInfo) {
        try (HcclRootInfo info = new HcclRootInfo()) {
            int r = hccl.HcclGetRootInfo(info);
            info.internal().capacity(ROOT_INFO_BYTES).get(rootInfo, 0, ROOT_INFO_BYTES);
            return r;
        }
    }

    @Override
    public int commInitRootInfo(int nRanks, byte[] rootInfo, int rank, long[] comm) {
        try (HcclRootInfo info = new HcclRootInfo()) {
            info.internal().capacity(ROOT_INFO_BYTES).put(rootInfo, 0, ROOT_INFO_BYTES);
            HcclComm c = new HcclComm();
            int r = hccl.HcclCommInitRootInfo(nRanks, info, rank, c);
            comm[0] = address(c);
            return r;
        }
    }

    @Override
    public int commInitClusterInfo(String rankTablePath, int rank, long[] comm) {
        HcclComm c = new HcclComm();
        int r = hccl.HcclCommInitClusterInfo(rankTablePath, rank, c);
        comm[0] = address(c);
        return r;
    }

    @Override
    public int commInitAll(int[] devices, long[] comms) {
        try (IntPointer d = new IntPointer(devices); org.bytedeco.javacpp.PointerPointer<HcclComm> c =
                new org.bytedeco.javacpp.PointerPointer<>(devices.length)) {
            int r = hccl.HcclCommInitAll(devices.length, d, c);
            for (int i = 0; i < devices.length; i++) {
                comms[i] = address(c.get(i));
            }
            return r;
        }
    }

    @Override
    public int commDestroy(long comm) {
        return hccl.HcclCommDestroy(comm(comm));
    }

    @Override
    public int getRankSize(long comm, int[] size) {
        try (IntPointer p = new IntPointer(1)) {
            int r = hccl.HcclGetRankSize(comm(comm), p);
            size[0] = p.get();
            return r;
        }
    }

    @Override
    public int getRankId(long comm, int[] rank) {
        try (IntPointer p = new IntPointer(1)) {
            int r = hccl.HcclGetRankId(comm(comm), p);
            rank[0] = p.get();
            return r;
        }
    }

    @Override
    public String errorString(int code) {
        return hccl.HcclGetErrorString(code);
    }

    @Override
    public int allReduce(long sendBuf, long recvBuf, long count, int dataType, int op, long comm, long stream) {
        return hccl.HcclAllReduce(ptr(sendBuf), ptr(recvBuf), count, dataType, op, comm(comm), stream(stream));
    }

    @Override
    public int broadcast(long buf, long count, int dataType, int root, long comm, long stream) {
        return hccl.HcclBroadcast(ptr(buf), count, dataType, root, comm(comm), stream(stream));
    }

    @Override
    public int reduceScatter(long sendBuf, long recvBuf, long recvCount, int dataType, int op, long comm, long stream) {
        return hccl.HcclReduceScatter(ptr(sendBuf), ptr(recvBuf), recvCount, dataType, op, comm(comm), stream(stream));
    }

    @Override
    public int allGather(long sendBuf, long recvBuf, long sendCount, int dataType, long comm, long stream) {
        return hccl.HcclAllGather(ptr(sendBuf), ptr(recvBuf), sendCount, dataType, comm(comm), stream(stream));
    }

    @Override
    public int send(long buf, long count, int dataType, int destRank, long comm, long stream) {
        return hccl.HcclSend(ptr(buf), count, dataType, destRank, comm(comm), stream(stream));
    }

    @Override
    public int recv(long buf, long count, int dataType, int srcRank, long comm, long stream) {
        return hccl.HcclRecv(ptr(buf), count, dataType, srcRank, comm(comm), stream(stream));
    }

    @Override
    public int barrier(long comm, long stream) {
        return hccl.HcclBarrier(comm(comm), stream(stream));
    }
}
