package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.ascend.spi.AclnnOp;
import dev.ascendj.core.DType;
import dev.ascendj.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything one kernel call creates: aclnn descriptors (tensors, scalars, int arrays) and device
 * temporaries. {@link #close()} destroys every descriptor and releases every temporary (their
 * memory is freed after the next device synchronisation, see {@link NpuDevice}), also when the call
 * failed half-way.
 *
 * <p>{@link #run} is the two-phase aclnn pattern: {@code GetWorkspaceSize}, workspace from the
 * stream's pool, execute on the stream.
 */
final class OpContext implements AutoCloseable {
    private final AclnnApi aclnn;
    private final AclApi acl;
    private final NpuStream stream;
    private final String kernel;
    private final List<Long> tensors = new ArrayList<>();
    private final List<Long> scalars = new ArrayList<>();
    private final List<Long> arrays = new ArrayList<>();
    private final List<long[]> temps = new ArrayList<>();

    OpContext(AclnnApi aclnn, AclApi acl, NpuStream stream, String kernel) {
        this.aclnn = aclnn;
        this.acl = acl;
        this.stream = stream;
        this.kernel = kernel;
        stream.device().bind();
    }

    NpuStream stream() {
        return stream;
    }

    /** A descriptor of a tensor argument. */
    Long t(Tensor t) {
        return t == null ? null : t(TensorRef.of(t));
    }

    /** A descriptor of a view. */
    Long t(TensorRef r) {
        if (r == null) {
            return null;
        }
        long h = aclnn.createTensor(r.dims(), AclDataTypes.of(r.dtype()), r.strides(), r.offset(), AclTensor.FORMAT_ND,
                new long[] {r.storageElements()}, r.base());
        if (h == 0) {
            throw new AclException(kernel + ": aclCreateTensor(" + r + ")", dev.ascendj.acl.global.aclnn.ACLNN_ERR_INNER,
                    AclException.recentMessage(acl));
        }
        tensors.add(h);
        return h;
    }

    /**
     * A descriptor of an empty tensor (no device memory), for outputs an operator requires but does
     * not write, such as aclnnRotaryPositionEmbeddingGrad's dcosOut and dsinOut without xOptional.
     */
    Long empty(DType dtype, long... dims) {
        long h = aclnn.createTensor(dims.clone(), AclDataTypes.of(dtype), new long[dims.length], 0, AclTensor.FORMAT_ND,
                new long[] {0}, 0);
        if (h == 0) {
            throw new AclException(kernel + ": aclCreateTensor(empty " + java.util.Arrays.toString(dims) + ")",
                    dev.ascendj.acl.global.aclnn.ACLNN_ERR_INNER, AclException.recentMessage(acl));
        }
        tensors.add(h);
        return h;
    }

    /** A scalar descriptor of type {@code dtype}. */
    Long scalar(double value, DType dtype) {
        long h = aclnn.createScalar(value, AclDataTypes.of(dtype));
        if (h == 0) {
            throw new AclException(kernel + ": aclCreateScalar", dev.ascendj.acl.global.aclnn.ACLNN_ERR_INNER,
                    AclException.recentMessage(acl));
        }
        scalars.add(h);
        return h;
    }

    /** An FP32 scalar. */
    Long scalar(double value) {
        return scalar(value, DType.FP32);
    }

    /** An int-array descriptor (axes, dimensions). */
    Long ints(long... values) {
        long h = aclnn.createIntArray(values);
        if (h == 0) {
            throw new AclException(kernel + ": aclCreateIntArray", dev.ascendj.acl.global.aclnn.ACLNN_ERR_INNER,
                    AclException.recentMessage(acl));
        }
        arrays.add(h);
        return h;
    }

    /** A contiguous device temporary, released when this context closes. */
    TensorRef temp(DType dtype, long... dims) {
        long bytes = dtype.byteSize(Math.max(TensorRef.numel(dims), 1));
        long address = stream.device().allocateRaw(bytes);
        temps.add(new long[] {address, bytes});
        return TensorRef.contiguous(address, dtype, dims);
    }

    /** Runs operator {@code op} on the stream with arguments in C order (see {@link AclnnOp#params()}). */
    void run(AclnnOp op, Object... args) {
        op.check(args);
        long[] workspaceSize = new long[1];
        long[] executor = new long[1];
        int code = aclnn.getWorkspaceSize(op, args, workspaceSize, executor);
        AclException.check(acl, code, op.cName() + "GetWorkspaceSize");
        long workspace = 0;
        try {
            if (workspaceSize[0] > 0) {
                workspace = stream.workspace(workspaceSize[0]);
            }
        } catch (RuntimeException e) {
            aclnn.destroyExecutor(executor[0]);
            throw e;
        }
        AclException.check(acl, aclnn.execute(op, workspace, workspaceSize[0], executor[0], stream.handle()),
                op.cName());
    }

    /** Copies a one-element FP32 ref to the host, after the stream has run everything before. */
    float readFloat(TensorRef r) {
        NpuDevice device = stream.device();
        HostStaging staging = device.staging();
        synchronized (staging) {
            PinnedHostBuffer block = staging.block(4);
            AclException.check(acl, acl.memcpyAsync(block.address(), 4, r.base() + r.offset() * 4, 4,
                    AclApi.MEMCPY_DEVICE_TO_HOST, stream.handle()), "aclrtMemcpyAsync");
            stream.synchronize();
            return block.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
        }
    }

    /** Copies host bytes into a device ref and waits (for small constants and scalars). */
    void upload(TensorRef r, ByteBuffer bytes) {
        HostStaging staging = stream.device().staging();
        int n = bytes.remaining();
        synchronized (staging) {
            PinnedHostBuffer block = staging.block(n);
            block.asByteBuffer().put(bytes.duplicate());
            AclException.check(acl, acl.memcpyAsync(r.base() + r.offset() * r.dtype().elementSize(), n, block.address(),
                    n, AclApi.MEMCPY_HOST_TO_DEVICE, stream.handle()), "aclrtMemcpyAsync");
            stream.synchronize();
        }
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (long h : tensors) {
            failure = note(failure, aclnn.destroyTensor(h), "aclDestroyTensor");
        }
        for (long h : scalars) {
            failure = note(failure, aclnn.destroyScalar(h), "aclDestroyScalar");
        }
        for (long h : arrays) {
            failure = note(failure, aclnn.destroyIntArray(h), "aclDestroyIntArray");
        }
        tensors.clear();
        scalars.clear();
        arrays.clear();
        for (long[] t : temps) {
            stream.device().release(t[0], t[1]);
        }
        temps.clear();
        if (failure != null) {
            throw failure;
        }
    }

    private RuntimeException note(RuntimeException failure, int code, String call) {
        if (code == 0) {
            return failure;
        }
        AclException e = new AclException(kernel + ": " + call, code, AclException.recentMessage(acl));
        if (failure == null) {
            return e;
        }
        failure.addSuppressed(e);
        return failure;
    }
}
