package dev.ascendj.ascend.spi;

/**
 * The aclnn calls AscendJ makes: descriptor creation and destruction, and the two phases of every
 * operator through one pair of methods keyed by {@link AclnnOp}. Handles are {@code long}s; 0 is a
 * null (absent optional) argument. Methods return the raw {@code aclnnStatus}; create methods
 * return 0 on failure.
 *
 * <p>Operator arguments are passed in the C order, boxed: descriptor handles as {@code Long},
 * integers as {@code Long}, {@code Byte} or {@code Integer}, floating-point values as
 * {@code Double} or {@code Float}, flags as {@code Boolean}, strings as {@code String}, exactly as
 * {@link AclnnOp#params()} describes; {@link AclnnOp#check(Object[])} verifies them.
 */
public interface AclnnApi {
    /**
     * {@code aclCreateTensor}: a view of {@code viewDims} with {@code strides} (elements) starting
     * {@code offset} elements into storage of {@code storageDims} at device address {@code data}.
     */
    long createTensor(long[] viewDims, int dataType, long[] strides, long offset, int format, long[] storageDims,
                      long data);

    int destroyTensor(long tensor);

    /** {@code aclCreateScalar} of {@code value} converted to {@code dataType} (an {@code aclDataType}). */
    long createScalar(double value, int dataType);

    int destroyScalar(long scalar);

    long createIntArray(long[] values);

    int destroyIntArray(long array);

    /** Phase 1 of {@code op}: writes the workspace size and the executor. */
    int getWorkspaceSize(AclnnOp op, Object[] args, long[] workspaceSize, long[] executor);

    /** Phase 2 of {@code op}: enqueues the executor on {@code stream} (and consumes it). */
    int execute(AclnnOp op, long workspace, long workspaceSize, long executor, long stream);

    /** Releases an executor that phase 2 will not consume (after a failure between the phases). */
    int destroyExecutor(long executor);
}
