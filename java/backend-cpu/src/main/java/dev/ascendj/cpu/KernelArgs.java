package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/**
 * Argument checks shared by the CPU kernels. Each failure is a {@link KernelException} naming
 * the kernel and the offending tensors, so that a caller never sees an index error from deep
 * inside a loop.
 */
final class KernelArgs {
    private final String kernel;
    private final Device device;

    KernelArgs(String kernel, Device device) {
        this.kernel = kernel;
        this.device = device;
    }

    KernelException fail(String problem) {
        return new KernelException(kernel, problem);
    }

    /** The tensor is open, on this device, and not null. */
    Tensor tensor(String name, Tensor t) {
        if (t == null) {
            throw fail(name + " is null");
        }
        t.checkAlive();
        if (t.device() != device) {
            throw fail(name + " " + t.describe() + " is on " + t.device() + ", expected " + device);
        }
        return t;
    }

    /** An open float tensor (FP32, FP16 or BF16) on this device. */
    Tensor floating(String name, Tensor t) {
        tensor(name, t);
        if (!t.dtype().isFloatingPoint()) {
            throw fail(name + " " + t.describe() + " must be FP32, FP16 or BF16");
        }
        return t;
    }

    /** An open FP32 tensor on this device. */
    Tensor fp32(String name, Tensor t) {
        tensor(name, t);
        if (t.dtype() != DType.FP32) {
            throw fail(name + " " + t.describe() + " must be FP32");
        }
        return t;
    }

    /** An open INT32/INT64 tensor on this device. */
    Tensor index(String name, Tensor t) {
        tensor(name, t);
        if (!t.dtype().isIndex()) {
            throw fail(name + " " + t.describe() + " must be INT32 or INT64");
        }
        return t;
    }

    /** {@code t} has exactly {@code expected}'s shape. */
    void sameShape(String name, Tensor t, String refName, Tensor ref) {
        if (!t.shape().equals(ref.shape())) {
            throw fail(name + " " + t.describe() + " must have the shape of " + refName + " " + ref.describe());
        }
    }

    /** {@code t} has the given shape. */
    void shape(String name, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw fail(name + " " + t.describe() + " must have shape " + expected);
        }
    }

    /** {@code t} has the given rank. */
    void rank(String name, Tensor t, int rank) {
        if (t.rank() != rank) {
            throw fail(name + " " + t.describe() + " must have rank " + rank);
        }
    }

    /** Outputs must not share memory with inputs, unless the kernel allows it. */
    void noOverlap(String outName, Tensor out, String inName, Tensor in) {
        if (in != null && out.buffer() == in.buffer() && overlaps(out, in)) {
            throw fail(outName + " " + out.describe() + " overlaps input " + inName + " " + in.describe());
        }
    }

    private static boolean overlaps(Tensor a, Tensor b) {
        long[] sa = span(a);
        long[] sb = span(b);
        return sa[0] < sb[1] && sb[0] < sa[1];
    }

    /** [first byte, last byte + 1) touched by a tensor. */
    private static long[] span(Tensor t) {
        int es = Math.max(t.dtype().bits() / 8, 1);
        long lo = t.offset();
        long hi = t.offset();
        for (int d = 0; d < t.rank(); d++) {
            long ext = (long) (t.dim(d) - 1) * t.stride(d);
            if (t.dim(d) == 0) {
                return new long[] {0, 0};
            }
            if (ext < 0) {
                lo += ext;
            } else {
                hi += ext;
            }
        }
        return new long[] {lo * es, (hi + 1) * es};
    }
}
