package dev.ascendj.cpu.collective;

import dev.ascendj.core.DType;
import dev.ascendj.core.ReduceOp;
import dev.ascendj.cpu.CpuBuffer;
import dev.ascendj.cpu.collective.CollectiveGroup.Attempt;
import dev.ascendj.cpu.collective.CollectiveGroup.Op;

/**
 * The ring algorithms, run by every member of a group on its own thread. Members are arranged in
 * a ring in member order; member {@code g} only ever reads from its left neighbour
 * {@code g - 1} (mod n), one chunk per step, straight from the neighbour's memory (the virtual
 * devices share the process's memory, so a "transfer" is one copy). No member gathers the
 * whole data.
 *
 * <p>Synchronisation is by step counters: before a step a member waits until its left neighbour
 * has finished the step that produced the chunk it needs. That alone also keeps a member from
 * overwriting a chunk its right neighbour has yet to read: every step waits for the left
 * neighbour's previous step, so a member at step p implies its left neighbour at p-1 or beyond,
 * and when member g's left neighbour has finished step n-2+s, the right neighbour (n-2 places
 * further left) has finished step s, the one that reads the chunk g overwrites at all-gather step
 * s. Before leaving, a member waits until its right neighbour has finished, so that the caller
 * does not reuse or change memory that is still being read.
 *
 * <h2>All-reduce and reduce-scatter</h2>
 * The data (n elements per member) is cut into {@code n} chunks, chunk {@code c} being elements
 * {@code [c*N/n, (c+1)*N/n)} (for reduce-scatter: part {@code c} of axis 0). Reduce-scatter runs
 * {@code n-1} steps; at step {@code s} member {@code g} combines chunk {@code c = g-s-2 (mod n)}
 * received from its left neighbour with its own input. Chunk {@code c} thus starts at member
 * {@code c+1} and travels the ring, so its elements are reduced in the fixed order
 * <pre>    x[c+1] op x[c+2] op ... op x[n-1] op x[0] op ... op x[c]     (member indices mod n, left to right)</pre>
 * and member {@code c} ends with its final value. Each addition happens exactly once, on one
 * member, independent of thread timing: the result is bit-identical from run to run. The order
 * differs between chunks (each starts at a different member), which is fixed too. All-reduce
 * then runs {@code n-1} all-gather steps that copy the final chunks around the ring, so every
 * member ends with the same bits.
 *
 * <p>Float data is reduced in FP32 (an FP32 work buffer for FP16/BF16 tensors, rounded to the
 * tensor's dtype once at the end); INT32/INT64 in their own type. Each member moves
 * {@code 2(n-1)/n} of the data for an all-reduce, the ring's optimum.
 *
 * <h2>All-gather and broadcast</h2>
 * All-gather: member {@code g} places its part at chunk {@code g} of its output, then at step
 * {@code s} copies chunk {@code g-s-1} from its left neighbour's output. Broadcast is a pipelined
 * chain from the root around the ring: the buffer is cut into chunks, and each member copies
 * chunk {@code j} from its left neighbour as soon as the neighbour has it.
 */
final class Ring {
    /** Broadcast pipelining: chunks of at least this many bytes. */
    private static final long BROADCAST_CHUNK = 64 * 1024;

    private Ring() {
    }

    private static int mod(long x, int n) {
        return Math.floorMod(x, n);
    }

    /** First element of chunk {@code c} of {@code total} elements cut into {@code n} chunks. */
    private static long lo(long total, int n, int c) {
        return total * c / n;
    }

    private static long len(long total, int n, int c) {
        return lo(total, n, c + 1) - lo(total, n, c);
    }

    /** All-reduce of {@code in} into {@code out} (same dtype and count; may be the same memory). */
    static void allReduce(CollectiveGroup grp, Attempt a, Call call, Region in, Region out, ReduceOp op) {
        int n = grp.size();
        if (n == 1) {
            if (!in.sameMemory(out)) {
                Region.copyBytes(in, 0, out, 0, in.byteSize());
            }
            return;
        }
        DType wt = ChunkMath.workType(in.dtype());
        long total = in.count();
        // FP32/INT32/INT64 reduce in place in out; FP16/BF16 in an FP32 scratch on this member's device.
        CpuBuffer scratch = wt == out.dtype() ? null : CollectiveGroup.allocate(grp.device(a.member), wt.byteSize(total));
        try {
            Region work = scratch == null ? out : new Region(scratch, 0, wt, total);
            Op o = grp.join(a, call, in, work);
            int g = a.member;
            int left = mod(g - 1, n);
            int right = mod(g + 1, n);
            reduceScatterSteps(grp, a, o, op, in, work, total, false);
            for (int s = 0; s < n - 1; s++) {
                int c = mod(g - s - 1, n);
                grp.awaitProgress(a, o, left, n - 1 + s, "all-gather step " + s);
                grp.atStep(a, n - 1 + s);
                long es = wt.elementSize();
                Region.copyBytes(o.work[left], lo(total, n, c) * es, work, lo(total, n, c) * es, len(total, n, c) * es);
                grp.advance(a, o, n + s, s == n - 2);
            }
            if (scratch != null) {
                ChunkMath.store(work, 0, out, 0, total);
            }
            grp.awaitProgress(a, o, right, 2L * n - 2, "all-gather step " + (n - 2));
            grp.leave(o);
        } finally {
            if (scratch != null) {
                scratch.close();
            }
        }
    }

    /** Reduce-scatter of {@code in} (n parts along axis 0) into {@code out} (this member's part). */
    static void reduceScatter(CollectiveGroup grp, Attempt a, Call call, Region in, Region out, ReduceOp op) {
        int n = grp.size();
        if (n == 1) {
            Region.copyBytes(in, 0, out, 0, in.byteSize());
            return;
        }
        DType wt = ChunkMath.workType(in.dtype());
        long total = in.count();
        CpuBuffer scratch = CollectiveGroup.allocate(grp.device(a.member), wt.byteSize(total));
        try {
            Region work = new Region(scratch, 0, wt, total);
            Op o = grp.join(a, call, in, work);
            int g = a.member;
            reduceScatterSteps(grp, a, o, op, in, work, total, true);
            ChunkMath.store(work, lo(total, n, g), out, 0, len(total, n, g));
            grp.awaitProgress(a, o, mod(g + 1, n), n - 1, "reduce-scatter step " + (n - 2));
            grp.leave(o);
        } finally {
            scratch.close();
        }
    }

    /**
     * The n-1 reduce-scatter steps; afterwards chunk {@code g} of {@code work} holds the reduced
     * values. {@code last}: no step follows that reads from the left neighbour.
     */
    private static void reduceScatterSteps(CollectiveGroup grp, Attempt a, Op o, ReduceOp op, Region in, Region work,
                                           long total, boolean last) {
        int n = grp.size();
        int g = a.member;
        int left = mod(g - 1, n);
        for (int s = 0; s < n - 1; s++) {
            int c = mod(g - s - 2, n);
            Region from;
            if (s == 0) {
                from = o.in[left]; // the neighbour's own contribution, which it never overwrites
            } else {
                grp.awaitProgress(a, o, left, s, "reduce-scatter step " + (s - 1));
                from = o.work[left];
            }
            grp.atStep(a, s);
            ChunkMath.combine(op, from, in, work, lo(total, n, c), len(total, n, c));
            grp.advance(a, o, s + 1, last && s == n - 2);
        }
    }

    /** All-gather: {@code in} becomes part {@code g} of {@code out} on every member. */
    static void allGather(CollectiveGroup grp, Attempt a, Call call, Region in, Region out) {
        int n = grp.size();
        long part = in.byteSize();
        int g = a.member;
        if (n == 1) {
            if (!in.sameMemory(out)) {
                Region.copyBytes(in, 0, out, 0, part);
            }
            return;
        }
        Op o = grp.join(a, call, in, out);
        int left = mod(g - 1, n);
        Region.copyBytes(in, 0, out, g * part, part); // a no-op move when in is already part g of out
        grp.advance(a, o, 1, false);
        for (int s = 0; s < n - 1; s++) {
            int c = mod(g - s - 1, n);
            grp.awaitProgress(a, o, left, s + 1, s == 0 ? "placing its part" : "all-gather step " + (s - 1));
            grp.atStep(a, s);
            Region.copyBytes(o.work[left], c * part, out, c * part, part);
            grp.advance(a, o, s + 2, s == n - 2);
        }
        grp.awaitProgress(a, o, mod(g + 1, n), n, "all-gather step " + (n - 2));
        grp.leave(o);
    }

    /** Broadcast of the root's {@code buf} along the ring, pipelined in chunks. */
    static void broadcast(CollectiveGroup grp, Attempt a, Call call, Region buf, int root) {
        int n = grp.size();
        if (n == 1) {
            return;
        }
        int g = a.member;
        long bytes = buf.byteSize();
        int chunks = (int) Math.max(1, Math.min(4L * n, (bytes + BROADCAST_CHUNK - 1) / BROADCAST_CHUNK));
        Op o = grp.join(a, call, buf, buf);
        int left = mod(g - 1, n);
        int right = mod(g + 1, n);
        if (g == root) {
            grp.advance(a, o, chunks, true);
        } else {
            for (int j = 0; j < chunks; j++) {
                grp.awaitProgress(a, o, left, j + 1, "forwarding chunk " + j);
                grp.atStep(a, j);
                long from = bytes * j / chunks;
                Region.copyBytes(o.work[left], from, buf, from, bytes * (j + 1) / chunks - from);
                grp.advance(a, o, j + 1, j == chunks - 1);
            }
        }
        if (right != root) {
            grp.awaitProgress(a, o, right, chunks, "forwarding chunk " + (chunks - 1));
        }
        grp.leave(o);
    }

    /** Barrier: returns once every member has joined. */
    static void barrier(CollectiveGroup grp, Attempt a) {
        if (grp.size() > 1) {
            grp.leave(grp.join(a, Call.barrier(), null, null));
        }
    }
}
