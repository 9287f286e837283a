package dev.ascendj.cpu.collective;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.CommunicatorException;
import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBuffer;
import dev.ascendj.cpu.CpuDevice;

/**
 * One member's view of a {@link SpanningGroup}: the {@link Communicator} a rank calls when its
 * group spans processes. It runs the ring algorithms of {@link Ring} with messages instead of
 * reads of the neighbour's memory: member {@code g} receives every chunk from its left neighbour
 * {@code g - 1} and passes on what its right neighbour {@code g + 1} needs, in the same steps and
 * with the same arithmetic ({@link ChunkMath}), so a reduction gives the same bits as the same
 * group inside one process, however its members are spread over processes:
 * <pre>    chunk c = x[c+1] op x[c+2] op ... op x[c]     (member indices mod n, FP32 work, rounded once)</pre>
 * (see the {@link dev.ascendj.cpu.collective package} notes). With the members of a node
 * contiguous in member order, as in every group of a Plan, the ring crosses each node boundary
 * once in each direction: each node sends {@code 2(n-1)/n} of the data to the next node for an
 * all-reduce, where a hierarchical scheme (reduce in the node, ring over the k nodes, broadcast)
 * would send {@code 2(k-1)/k} but add in another order.
 *
 * <p>Every message carries the sender's call (its number and description), which the receiver
 * checks against its own: members calling different collectives fail at once, naming both.
 */
final class SpanningCommunicator implements Communicator {
    /** Broadcast pipelining: chunks of at least this many bytes (as {@link Ring}). */
    private static final long BROADCAST_CHUNK = 64 * 1024;

    private final SpanningGroup group;
    private final int member;
    private final CpuDevice device;
    private final CallCheck check;
    private final int left;
    private final int right;
    private final long[] sent;
    private final long[] received;
    private long collectives;
    private volatile boolean closed;

    SpanningCommunicator(SpanningGroup group, int member, CpuDevice device) {
        this.group = group;
        this.member = member;
        this.device = device;
        int n = group.size();
        this.check = new CallCheck(device, group.rankName(member), member, n);
        this.left = Math.floorMod(member - 1, n);
        this.right = Math.floorMod(member + 1, n);
        this.sent = new long[n];
        this.received = new long[n];
    }

    @Override
    public int rank() {
        return member;
    }

    @Override
    public int size() {
        return group.size();
    }

    /** One call in progress: its number, description and deadline, and the messages sent and received so far. */
    private final class Exchange {
        final long seq;
        final String call;
        final long deadline;
        int sends;
        int receives;

        Exchange(long seq, String call) {
            this.seq = seq;
            this.call = call;
            long now = System.nanoTime();
            long t = group.timeoutNanos();
            this.deadline = t > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + t;
        }

        String label() {
            return call.substring(0, call.indexOf('(')) + " #" + seq + " in group '" + group.name() + "'";
        }

        /** Sends {@code bytes} bytes of {@code r} from byte {@code from} to the right neighbour. */
        void sendRight(Region r, long from, long bytes) {
            group.send(new Message(group.name(), right, member, Message.COLLECTIVE, seq, sends++, call,
                    r.view(from, bytes)));
        }

        /** Receives the next message from the left neighbour and writes its bytes at byte {@code at} of {@code into}. */
        void receiveLeft(CpuBuffer into, long at, long bytes) {
            int index = receives++;
            Message m = group.take(member, left, Message.COLLECTIVE, deadline, "waiting in " + label() + " for message "
                    + index + " from " + group.rankName(left));
            if (m.seq() != seq || !m.call().equals(call)) {
                throw mismatch(m);
            }
            if (m.index() != index || m.length() != bytes) {
                throw new IllegalStateException(group.rankName(member) + " expected message " + index + " of " + bytes
                        + " bytes of " + label() + " from " + group.rankName(left) + ", got message " + m.index()
                        + " of " + m.length() + " bytes");
            }
            into.copyFromHost(at, m.payload());
        }

        private CommunicatorException mismatch(Message m) {
            return group.fail(group.rankName(left) + " called " + m.call() + " as collective #" + m.seq()
                    + " of group '" + group.name() + "' while " + group.rankName(member) + " called " + call
                    + " as collective #" + seq, null);
        }
    }

    @Override
    public void allReduce(Tensor in, Tensor out, ReduceOp op) {
        run("allReduce", () -> {
            CallCheck.Checked c = checked(() -> check.allReduce(in, out, op));
            Exchange x = new Exchange(collectives++, c.call().describe());
            allReduce(x, c.in(), c.out(), op);
        });
    }

    private void allReduce(Exchange x, Region in, Region out, ReduceOp op) {
        DType wt = ChunkMath.workType(in.dtype());
        long total = in.count();
        CpuBuffer scratch = wt == out.dtype() ? null : CollectiveGroup.allocate(device, wt.byteSize(total));
        CpuBuffer inbox = CollectiveGroup.allocate(device, wt.byteSize(total));
        try {
            Region work = scratch == null ? out : new Region(scratch, 0, wt, total);
            reduceScatter(x, op, in, work, inbox);
            int n = group.size();
            long es = wt.elementSize();
            Region arrived = new Region(inbox, 0, wt, total);
            x.sendRight(work, lo(total, n, member) * es, len(total, n, member) * es);
            for (int s = 0; s < n - 1; s++) {
                int c = Math.floorMod(member - s - 1, n);
                x.receiveLeft(inbox, lo(total, n, c) * es, len(total, n, c) * es);
                Region.copyBytes(arrived, lo(total, n, c) * es, work, lo(total, n, c) * es, len(total, n, c) * es);
                if (s < n - 2) {
                    x.sendRight(work, lo(total, n, c) * es, len(total, n, c) * es);
                }
            }
            if (scratch != null) {
                ChunkMath.store(work, 0, out, 0, total);
            }
        } finally {
            inbox.close();
            if (scratch != null) {
                scratch.close();
            }
        }
    }

    /**
     * The n-1 reduce-scatter steps of the ring: at step s, chunk {@code g-s-2} arrives from the left
     * neighbour (its own input at step 0, its partial result later) and is combined with this
     * member's input; the result goes to the right neighbour, except at the last step, after which
     * chunk {@code g} of {@code work} holds the reduction.
     */
    private void reduceScatter(Exchange x, ReduceOp op, Region in, Region work, CpuBuffer inbox) {
        int n = group.size();
        long total = in.count();
        int g = member;
        long inSize = in.dtype().elementSize();
        x.sendRight(in, lo(total, n, g - 1) * inSize, len(total, n, g - 1) * inSize);
        for (int s = 0; s < n - 1; s++) {
            int c = Math.floorMod(g - s - 2, n);
            DType arriving = s == 0 ? in.dtype() : work.dtype();
            long es = arriving.elementSize();
            x.receiveLeft(inbox, lo(total, n, c) * es, len(total, n, c) * es);
            ChunkMath.combine(op, new Region(inbox, 0, arriving, total), in, work, lo(total, n, c), len(total, n, c));
            if (s < n - 2) {
                long ws = work.dtype().elementSize();
                x.sendRight(work, lo(total, n, c) * ws, len(total, n, c) * ws);
            }
        }
    }

    @Override
    public void reduceScatter(Tensor in, Tensor out, ReduceOp op) {
        run("reduceScatter", () -> {
            CallCheck.Checked c = checked(() -> check.reduceScatter(in, out, op));
            Exchange x = new Exchange(collectives++, c.call().describe());
            DType wt = ChunkMath.workType(in.dtype());
            long total = c.in().count();
            int n = group.size();
            CpuBuffer scratch = CollectiveGroup.allocate(device, wt.byteSize(total));
            CpuBuffer inbox = CollectiveGroup.allocate(device, wt.byteSize(total));
            try {
                Region work = new Region(scratch, 0, wt, total);
                reduceScatter(x, op, c.in(), work, inbox);
                ChunkMath.store(work, lo(total, n, member), c.out(), 0, len(total, n, member));
            } finally {
                inbox.close();
                scratch.close();
            }
        });
    }

    @Override
    public void allGather(Tensor in, Tensor out) {
        run("allGather", () -> {
            CallCheck.Checked c = checked(() -> check.allGather(in, out));
            Exchange x = new Exchange(collectives++, c.call().describe());
            Region ri = c.in();
            Region ro = c.out();
            int n = group.size();
            long part = ri.byteSize();
            Region.copyBytes(ri, 0, ro, member * part, part);
            x.sendRight(ro, member * part, part);
            for (int s = 0; s < n - 1; s++) {
                int chunk = Math.floorMod(member - s - 1, n);
                x.receiveLeft(ro.buffer(), ro.byteOffset() + chunk * part, part);
                if (s < n - 2) {
                    x.sendRight(ro, chunk * part, part);
                }
            }
        });
    }

    @Override
    public void broadcast(Tensor buf, int root) {
        run("broadcast", () -> {
            CallCheck.Checked c = checked(() -> check.broadcast(buf, root));
            Exchange x = new Exchange(collectives++, c.call().describe());
            Region rb = c.in();
            int n = group.size();
            long bytes = rb.byteSize();
            int chunks = (int) Math.max(1, Math.min(4L * n, (bytes + BROADCAST_CHUNK - 1) / BROADCAST_CHUNK));
            for (int j = 0; j < chunks; j++) {
                long from = bytes * j / chunks;
                long size = bytes * (j + 1) / chunks - from;
                if (member != root) {
                    x.receiveLeft(rb.buffer(), rb.byteOffset() + from, size);
                }
                if (right != root) {
                    x.sendRight(rb, from, size);
                }
            }
        });
    }

    /** Two rounds of a token around the ring from member 0: the first proves that every member has entered. */
    @Override
    public void barrier() {
        run("barrier", () -> {
            Exchange x = new Exchange(collectives++, Call.barrier().describe());
            try (CpuBuffer none = CollectiveGroup.allocate(device, 1)) {
                Region token = new Region(none, 0, DType.INT8, 0);
                for (int round = 0; round < 2; round++) {
                    if (member != 0) {
                        x.receiveLeft(none, 0, 0);
                    }
                    x.sendRight(token, 0, 0);
                    if (member == 0) {
                        x.receiveLeft(none, 0, 0);
                    }
                }
            }
        });
    }

    @Override
    public void send(Tensor t, int peer) {
        run("send", () -> {
            Region r = checked(() -> check.pointToPoint("send to", t, peer));
            group.send(new Message(group.name(), peer, member, Message.POINT_TO_POINT, sent[peer]++, 0,
                    "send(" + t.shape() + ":" + t.dtype() + ")", r.view(0, r.byteSize())));
        });
    }

    @Override
    public void recv(Tensor t, int peer) {
        run("recv", () -> {
            Region r = checked(() -> check.pointToPoint("receive from", t, peer));
            long seq = received[peer]++;
            long deadline = System.nanoTime() + Math.min(group.timeoutNanos(), Long.MAX_VALUE / 4);
            Message m = group.take(member, peer, Message.POINT_TO_POINT, deadline, "waiting for send #" + seq + " from "
                    + group.rankName(peer) + " in group '" + group.name() + "'");
            String expected = "send(" + t.shape() + ":" + t.dtype() + ")";
            if (m.seq() != seq || !m.call().equals(expected)) {
                throw group.fail(group.rankName(peer) + " sent " + m.call() + " as send #" + m.seq() + " to "
                        + group.rankName(member) + " in group '" + group.name() + "', which receives " + t.shape()
                        + ":" + t.dtype() + " as #" + seq, null);
            }
            r.buffer().copyFromHost(r.byteOffset(), m.payload());
        });
    }

    /** Closes this member's side; later calls on it fail. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "communicator of " + group.rankName(member) + " (member " + member + ") in " + group;
    }

    // ------------------------------------------------------------------ plumbing

    /** Runs one call; whatever goes wrong fails the job, naming this rank unless it already failed. */
    private void run(String what, Runnable call) {
        if (closed) {
            throw new CommunicatorException("the communicator of " + group.rankName(member) + " in group '"
                    + group.name() + "' is closed");
        }
        try {
            call.run();
        } catch (CommunicatorException e) {
            throw e;
        } catch (RuntimeException | Error e) {
            throw group.fail(group.rankName(member) + " failed in " + what + " in group '" + group.name() + "': "
                    + VirtualCluster.describe(e), e);
        }
    }

    private <T> T checked(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (CallCheck.Invalid e) {
            throw group.fail(group.rankName(member) + " passed invalid arguments to a collective of group '"
                    + group.name() + "': " + e.getMessage(), null);
        }
    }

    /** First element of chunk {@code c} (mod n) of {@code total} elements cut into {@code n} chunks, as {@link Ring}. */
    private static long lo(long total, int n, int c) {
        return total * Math.floorMod(c, n) / n;
    }

    private static long len(long total, int n, int c) {
        int k = Math.floorMod(c, n);
        return total * (k + 1) / n - total * k / n;
    }
}
