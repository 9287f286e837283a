package dev.ascendj.ascend;

import dev.ascendj.core.Buffer;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Tensor;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * One rank's member of a group of an {@link HcclFabric}: an {@link HcclCommunicator} whose
 * collectives and receives are waited for on the host in slices, so that the wait ends when the
 * job fails or the fabric's timeout passes (with a message naming the group, the collective and
 * the rank), and whose sends go to a stream of their own. Used from its rank's thread only.
 */
final class HcclFabricMember implements Communicator {
    /** How long one host wait for the stream lasts before the job's state is looked at again. */
    static final int WAIT_SLICE_MILLIS = 50;

    private final HcclFabric fabric;
    private final String group;
    private final int[] ranks;
    private final int member;
    private final HcclCommunicator comm;
    private final NpuDevice device;
    private final long[] sent;
    private final long[] received;
    private long collectives;
    /** Sends under way, oldest first. */
    private final Deque<InFlight> inFlight = new ArrayDeque<>();
    private NpuStream sendStream;
    private boolean closed;

    /**
     * A send under way: the event the send stream waited for (recorded on the default stream after
     * the data), the event recorded after the send (null if it could not be), and the buffer it
     * reads. Each send has events of its own: ACL guarantees re-recording only for events made by
     * {@code aclrtCreateEventExWithFlag} (the aclrtRecordEvent page, CANN 8.0.0), and an event is
     * destroyed only once the send after it is done.
     */
    private record InFlight(NpuEvent ready, NpuEvent done, Buffer buffer) {
    }

    HcclFabricMember(HcclFabric fabric, String group, int[] ranks, int member, HcclCommunicator comm) {
        this.fabric = fabric;
        this.group = group;
        this.ranks = ranks;
        this.member = member;
        this.comm = comm;
        this.device = comm.device();
        this.sent = new long[ranks.length];
        this.received = new long[ranks.length];
    }

    @Override
    public int rank() {
        return member;
    }

    @Override
    public int size() {
        return ranks.length;
    }

    /** "allReduce #3 of group 'tp-stage0-dp1' (ranks [2, 3]) on rank 3". */
    private String describe(String what) {
        return what + " of group '" + group + "' (ranks " + Arrays.toString(ranks) + ") on rank " + ranks[member];
    }

    private String nextCollective(String name) {
        return name + " #" + collectives++;
    }

    /** Fails at once when the job has failed or this member is closed. */
    private void before(String what) {
        if (closed) {
            throw new IllegalStateException(describe(what) + ": the member is closed");
        }
        String f = fabric.failure();
        if (f != null) {
            throw new CommunicatorException(describe(what) + " not started: the job has failed: " + f);
        }
        reapSends();
    }

    /**
     * Waits for the default stream (the collective just queued and what came before it), in slices
     * of {@value #WAIT_SLICE_MILLIS} ms, until it is done, the job fails, the fabric's timeout passes
     * or the thread is interrupted.
     */
    private void await(String what) {
        long start = System.nanoTime();
        long limit = fabric.timeout().toNanos();
        NpuStream stream = device.defaultStream();
        while (true) {
            String f = fabric.failure();
            if (f != null) {
                throw new CommunicatorException(describe(what) + " stopped waiting: the job has failed: " + f);
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new CommunicatorException(describe(what) + " was interrupted while waiting for its peers");
            }
            long left = limit - (System.nanoTime() - start);
            if (left <= 0) {
                throw new CommunicatorException(describe(what) + " waited " + seconds(limit) + " for the other ranks of"
                        + " the group and gave up (the fabric's timeout, -D" + dev.ascendj.core.FabricSpec.TIMEOUT_PROPERTY
                        + "): one of them failed, stopped or is far behind");
            }
            boolean done;
            try {
                done = stream.synchronize((int) Math.max(1, Math.min(WAIT_SLICE_MILLIS, left / 1_000_000)));
            } catch (AclException e) {
                throw new CommunicatorException(describe(what) + " failed: " + e.getMessage(), e);
            }
            if (done) {
                return;
            }
        }
    }

    private static String seconds(long nanos) {
        long ms = nanos / 1_000_000;
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    private void run(String what, Runnable enqueue) {
        before(what);
        try {
            enqueue.run();
        } catch (HcclException e) {
            throw new CommunicatorException(describe(what) + " failed: " + e.getMessage(), e);
        }
        await(what);
    }

    @Override
    public void allReduce(Tensor in, Tensor out, ReduceOp op) {
        run(nextCollective("allReduce"), () -> comm.allReduce(in, out, op));
    }

    @Override
    public void allGather(Tensor in, Tensor out) {
        run(nextCollective("allGather"), () -> comm.allGather(in, out));
    }

    @Override
    public void reduceScatter(Tensor in, Tensor out, ReduceOp op) {
        run(nextCollective("reduceScatter"), () -> comm.reduceScatter(in, out, op));
    }

    @Override
    public void broadcast(Tensor buf, int root) {
        run(nextCollective("broadcast"), () -> comm.broadcast(buf, root));
    }

    @Override
    public void barrier() {
        run(nextCollective("barrier"), comm::enqueueBarrier);
    }

    @Override
    public void recv(Tensor t, int peer) {
        checkPeer("recv", peer);
        run("recv #" + received[peer]++ + " from member " + peer, () -> comm.recv(t, peer));
    }

    /**
     * Queues the send on this member's send stream, after the work queued so far on the default
     * stream (which computes {@code t}), and returns; {@code t}'s memory is kept until the peer has
     * received it.
     */
    @Override
    public void send(Tensor t, int peer) {
        checkPeer("send", peer);
        String what = "send #" + sent[peer]++ + " to member " + peer;
        before(what);
        if (sendStream == null) {
            sendStream = device.createDetachedStream();
        }
        Buffer kept = t.buffer().retain();
        NpuEvent ready = null;
        NpuEvent done = null;
        try {
            ready = device.createEvent();
            ready.record(device.defaultStream());
            sendStream.waitEvent(ready);
            comm.send(t, peer, sendStream);
            done = device.createEvent();
            done.record(sendStream);
        } catch (RuntimeException e) {
            if (done != null) {
                done.close();
            }
            // The send may be queued already: keep its memory and event until the stream is idle (close).
            inFlight.add(new InFlight(ready, null, kept));
            throw e instanceof HcclException ? new CommunicatorException(describe(what) + " failed: " + e.getMessage(), e)
                    : e;
        }
        inFlight.add(new InFlight(ready, done, kept));
    }

    private void checkPeer(String call, int peer) {
        if (peer < 0 || peer >= ranks.length || peer == member) {
            throw new IllegalArgumentException(call + ": member " + peer + " is not another member of group '" + group
                    + "' (members 0.." + (ranks.length - 1) + ", this is " + member + ")");
        }
    }

    /** Gives back the memory of sends that have completed (in order: the send stream runs them in order). */
    private void reapSends() {
        while (!inFlight.isEmpty()) {
            InFlight f = inFlight.peekFirst();
            if (f.done() == null || !f.done().isCompleted()) {
                return;
            }
            inFlight.removeFirst();
            f.ready().close();
            f.done().close();
            f.buffer().release();
        }
    }

    /** Whether nothing is queued on this member's streams (looked at without waiting). */
    boolean isIdle() {
        if (closed || device.isClosed()) {
            return true;
        }
        try {
            return device.defaultStream().synchronize(1) && (sendStream == null || sendStream.synchronize(1));
        } catch (AclException e) {
            return true; // the work ended, with an error: nothing is queued any more
        }
    }

    /**
     * Waits until this member's streams are idle (after a failure, until HCCL has ended work that
     * waited for failed peers), then destroys the send stream, the events and the communicator and
     * gives back the memory sends kept. Errors of work that failed with the job are not reported.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean failed = fabric.failure() != null;
        RuntimeException error = null;
        if (!device.isClosed()) {
            error = idle(device.defaultStream(), failed, null);
            if (sendStream != null) {
                error = idle(sendStream, failed, error);
                error = collect(error, () -> sendStream.destroy(null));
            }
            for (InFlight f : inFlight) {
                if (f.ready() != null) {
                    error = collect(error, f.ready()::close);
                }
                if (f.done() != null) {
                    error = collect(error, f.done()::close);
                }
            }
        }
        for (InFlight f : inFlight) {
            f.buffer().release();
        }
        inFlight.clear();
        error = collect(error, comm::destroy);
        if (error != null) {
            throw error;
        }
    }

    private static RuntimeException idle(NpuStream s, boolean failed, RuntimeException error) {
        try {
            s.synchronize();
        } catch (AclException e) {
            if (!failed) {
                return chain(error, e);
            }
        }
        return error;
    }

    private static RuntimeException collect(RuntimeException error, Runnable r) {
        try {
            r.run();
            return error;
        } catch (RuntimeException e) {
            return chain(error, e);
        }
    }

    private static RuntimeException chain(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    @Override
    public String toString() {
        return "member " + member + " (rank " + ranks[member] + ") of group '" + group + "'";
    }
}
