package dev.ascendj.ascend;

import dev.ascendj.ascend.jcpp.JavaCppHcclApi;
import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Tensor;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One rank of an HCCL communicator, bound to an {@link NpuDevice}: the {@link Communicator} SPI on
 * HCCL. Collectives are enqueued on the device's default stream (so they are ordered with the
 * operators and copies there) and the results are valid once that stream is synchronised, which
 * host reads of the tensors do by themselves.
 *
 * <p>Two ways to build one, as HCCL offers them:
 * <ul>
 *   <li>from a rank table (the JSON file of the cluster, see {@code launch/}):
 *       {@link #fromRankTable(NpuDevice, Path, int)};</li>
 *   <li>from root information: rank 0 calls {@link #rootInfo(NpuDevice)}, ships the bytes to the
 *       other ranks by any means, and every rank calls {@link #fromRootInfo}.</li>
 * </ul>
 * Tensors must be contiguous and live on the communicator's device.
 */
public final class HcclCommunicator implements Communicator {
    private final HcclApi api;
    private final NpuDevice device;
    private final long comm;
    private final int rank;
    private final int size;
    private volatile boolean closed;
    private boolean destroyed;

    HcclCommunicator(HcclApi api, NpuDevice device, long comm) {
        this.api = api;
        this.device = device;
        this.comm = comm;
        try {
            int[] r = new int[1];
            HcclException.check(api, device.api(), api.getRankId(comm, r), "HcclGetRankId");
            int[] n = new int[1];
            HcclException.check(api, device.api(), api.getRankSize(comm, n), "HcclGetRankSize");
            this.rank = r[0];
            this.size = n[0];
        } catch (RuntimeException e) {
            int code = api.commDestroy(comm);
            if (code != 0) {
                e.addSuppressed(new HcclException("HcclCommDestroy", code, null));
            }
            throw e;
        }
    }

    /** Rank 0's root information, to send to the other ranks ({@value HcclApi#ROOT_INFO_BYTES} bytes). */
    public static byte[] rootInfo(NpuDevice device) {
        return rootInfo(JavaCppHcclApi.instance(), device);
    }

    static byte[] rootInfo(HcclApi api, NpuDevice device) {
        device.bind();
        byte[] info = new byte[HcclApi.ROOT_INFO_BYTES];
        HcclException.check(api, device.api(), api.getRootInfo(info), "HcclGetRootInfo");
        return info;
    }

    /** Joins the group of {@code nRanks} ranks that rank 0's {@code rootInfo} describes. */
    public static HcclCommunicator fromRootInfo(NpuDevice device, int nRanks, byte[] rootInfo, int rank) {
        return fromRootInfo(JavaCppHcclApi.instance(), device, nRanks, rootInfo, rank);
    }

    static HcclCommunicator fromRootInfo(HcclApi api, NpuDevice device, int nRanks, byte[] rootInfo, int rank) {
        if (rootInfo.length != HcclApi.ROOT_INFO_BYTES) {
            throw new IllegalArgumentException("root info must be " + HcclApi.ROOT_INFO_BYTES + " bytes, got "
                    + rootInfo.length);
        }
        if (rank < 0 || rank >= nRanks) {
            throw new IllegalArgumentException("rank " + rank + " is outside a group of " + nRanks);
        }
        device.bind();
        long[] c = new long[1];
        HcclException.check(api, device.api(), api.commInitRootInfo(nRanks, rootInfo, rank, c), "HcclCommInitRootInfo");
        return new HcclCommunicator(api, device, c[0]);
    }

    /** The communicator of {@code rank} described by an HCCL rank-table file. */
    public static HcclCommunicator fromRankTable(NpuDevice device, Path rankTable, int rank) {
        return fromRankTable(JavaCppHcclApi.instance(), device, rankTable, rank);
    }

    static HcclCommunicator fromRankTable(HcclApi api, NpuDevice device, Path rankTable, int rank) {
        device.bind();
        long[] c = new long[1];
        HcclException.check(api, device.api(), api.commInitClusterInfo(rankTable.toAbsolutePath().toString(), rank, c),
                "HcclCommInitClusterInfo(" + rankTable + ")");
        return new HcclCommunicator(api, device, c[0]);
    }

    /** The device this rank runs on. */
    public NpuDevice device() {
        return device;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    private long address(Tensor t, String call, String name) {
        checkOpen();
        t.checkAlive();
        if (t.device() != device) {
            throw new IllegalArgumentException(call + ": " + name + " " + t.describe() + " is on " + t.device()
                    + ", the communicator on " + device);
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(call + ": " + name + " " + t.describe() + " must be contiguous");
        }
        return ((DeviceBuffer) t.buffer()).address() + t.byteOffset();
    }

    private static void sameType(String call, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(call + ": " + a.describe() + " and " + b.describe() + " differ in dtype");
        }
    }

    private long stream() {
        device.bind();
        return device.defaultStream().handle();
    }

    @Override
    public void allReduce(Tensor in, Tensor out, ReduceOp op) {
        sameType("allReduce", in, out);
        if (in.numel() != out.numel()) {
            throw new IllegalArgumentException("allReduce: " + in.describe() + " and " + out.describe() + " differ in size");
        }
        HcclException.check(api, device.api(), api.allReduce(address(in, "allReduce", "in"), address(out, "allReduce", "out"),
                in.numel(), HcclTypes.dataType(in.dtype()), HcclTypes.reduceOp(op), comm, stream()), "HcclAllReduce");
    }

    @Override
    public void allGather(Tensor in, Tensor out) {
        sameType("allGather", in, out);
        if (out.numel() != in.numel() * size) {
            throw new IllegalArgumentException("allGather: out " + out.describe() + " must hold " + size + " x "
                    + in.describe());
        }
        HcclException.check(api, device.api(), api.allGather(address(in, "allGather", "in"), address(out, "allGather", "out"),
                in.numel(), HcclTypes.dataType(in.dtype()), comm, stream()), "HcclAllGather");
    }

    @Override
    public void reduceScatter(Tensor in, Tensor out, ReduceOp op) {
        sameType("reduceScatter", in, out);
        if (in.numel() != out.numel() * size) {
            throw new IllegalArgumentException("reduceScatter: in " + in.describe() + " must hold " + size + " x "
                    + out.describe());
        }
        HcclException.check(api, device.api(), api.reduceScatter(address(in, "reduceScatter", "in"),
                address(out, "reduceScatter", "out"), out.numel(), HcclTypes.dataType(in.dtype()),
                HcclTypes.reduceOp(op), comm, stream()), "HcclReduceScatter");
    }

    @Override
    public void broadcast(Tensor buf, int root) {
        checkRank("broadcast", root);
        HcclException.check(api, device.api(), api.broadcast(address(buf, "broadcast", "buf"), buf.numel(),
                HcclTypes.dataType(buf.dtype()), root, comm, stream()), "HcclBroadcast");
    }

    @Override
    public void send(Tensor t, int peer) {
        send(t, peer, device.defaultStream());
    }

    /**
     * Enqueues the send on {@code stream} of this communicator's device (HCCL's send completes only
     * when the peer receives, so a pipeline sends on a stream of its own, see {@link HcclFabric}).
     */
    void send(Tensor t, int peer, NpuStream stream) {
        checkRank("send", peer);
        if (stream.device() != device) {
            throw new IllegalArgumentException("send: " + stream + " is not a stream of " + device);
        }
        long address = address(t, "send", "t");
        device.bind();
        HcclException.check(api, device.api(), api.send(address, t.numel(), HcclTypes.dataType(t.dtype()), peer, comm,
                stream.handle()), "HcclSend");
    }

    @Override
    public void recv(Tensor t, int peer) {
        checkRank("recv", peer);
        HcclException.check(api, device.api(), api.recv(address(t, "recv", "t"), t.numel(), HcclTypes.dataType(t.dtype()), peer, comm,
                stream()), "HcclRecv");
    }

    /** Returns when every rank has called it: the barrier is enqueued, then the stream is synchronised. */
    @Override
    public void barrier() {
        enqueueBarrier();
        device.defaultStream().synchronize();
    }

    /** Enqueues the barrier on the default stream without waiting for it. */
    void enqueueBarrier() {
        checkOpen();
        HcclException.check(api, device.api(), api.barrier(comm, stream()), "HcclBarrier");
    }

    private void checkRank(String call, int r) {
        if (r < 0 || r >= size) {
            throw new IllegalArgumentException(call + ": rank " + r + " is outside the group of " + size
                    + " (ranks " + Arrays.toString(new int[] {0, size - 1}) + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("communicator of rank " + rank + " used after close");
        }
    }

    /** Waits for the queued collectives, then destroys the communicator. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!device.isClosed()) {
                device.defaultStream().synchronize();
            }
        } finally {
            destroy();
        }
    }

    /** Destroys the communicator without waiting (its owner has seen every stream it used go idle). */
    void destroy() {
        closed = true;
        synchronized (this) {
            if (destroyed) {
                return;
            }
            destroyed = true;
        }
        HcclException.check(api, device.api(), api.commDestroy(comm), "HcclCommDestroy");
    }
}
