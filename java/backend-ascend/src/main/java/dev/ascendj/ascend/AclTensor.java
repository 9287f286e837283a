package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.core.Tensor;

/**
 * An aclnn tensor descriptor ({@code aclTensor*}) over the memory of an NPU {@link Tensor}: same
 * shape, strides, offset and dtype, format ND. The descriptor does not own the memory; closing it
 * destroys only the descriptor. Use it to call aclnn operators that AscendJ does not wrap.
 *
 * <pre>{@code
 * try (AclTensor a = AclTensor.of(backend.aclnn(), x)) {
 *     long handle = a.handle();   // pass to an aclnnXxxGetWorkspaceSize binding
 * }
 * }</pre>
 */
public final class AclTensor implements AutoCloseable {
    /** {@code ACL_FORMAT_ND}. */
    static final int FORMAT_ND = 2;

    private final AclnnApi api;
    private final long handle;
    private final String description;
    private boolean closed;

    private AclTensor(AclnnApi api, long handle, String description) {
        this.api = api;
        this.handle = handle;
        this.description = description;
    }

    /** A descriptor of an NPU tensor. */
    public static AclTensor of(AclnnApi api, Tensor t) {
        return of(api, TensorRef.of(t));
    }

    static AclTensor of(AclnnApi api, TensorRef r) {
        long h = api.createTensor(r.dims(), AclDataTypes.of(r.dtype()), r.strides(), r.offset(), FORMAT_ND,
                new long[] {r.storageElements()}, r.base());
        if (h == 0) {
            throw new AclException("aclCreateTensor(" + r + ")", dev.ascendj.acl.global.aclnn.ACLNN_ERR_INNER, null);
        }
        return new AclTensor(api, h, r.toString());
    }

    /** The native {@code aclTensor*}. */
    public long handle() {
        if (closed) {
            throw new IllegalStateException("descriptor " + description + " used after close");
        }
        return handle;
    }

    /** Destroys the descriptor (not the memory). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        int code = api.destroyTensor(handle);
        if (code != 0) {
            throw new AclException("aclDestroyTensor", code, null);
        }
    }

    @Override
    public String toString() {
        return "AclTensor(" + description + ")";
    }
}
