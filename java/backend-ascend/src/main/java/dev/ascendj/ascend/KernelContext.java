package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.core.DType;
import dev.ascendj.core.KernelException;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * What the kernel families of one {@link AscendOps} share: the stream they run on, its SoC, the
 * aclnn and ACL APIs, the device's constants, and the argument helpers. Each kernel call opens its
 * own {@link OpContext} through {@link #open}, which first checks the call's tensors.
 */
final class KernelContext {
    private final NpuStream stream;
    private final Soc soc;
    private final AclnnApi aclnn;
    private final AclApi acl;
    private final DeviceConstants constants;

    KernelContext(NpuStream stream, Soc soc, AclnnApi aclnn, AclApi acl) {
        this.stream = stream;
        this.soc = soc;
        this.aclnn = aclnn;
        this.acl = acl;
        this.constants = new DeviceConstants(stream.device());
    }

    NpuStream stream() {
        return stream;
    }

    /** The constant tensors the kernels keep on the stream's device. */
    DeviceConstants constants() {
        return constants;
    }

    /**
     * The context of one call of {@code kernel}, after checking that every non-null tensor is
     * alive, on this stream's device, and not BF16 on a SoC without BF16.
     */
    OpContext open(String kernel, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.checkAlive();
                if (t.device() != stream.device()) {
                    throw new KernelException(kernel, t.describe() + " is on " + t.device() + ", not on "
                            + stream.device());
                }
                if (t.dtype() == DType.BF16 && !soc.bf16()) {
                    throw new KernelException(kernel, soc.name() + " has no BF16; use FP16 or FP32 (" + t.describe() + ")");
                }
            }
        }
        return new OpContext(aclnn, acl, stream, kernel);
    }

    static void require(boolean ok, String kernel, String problem) {
        if (!ok) {
            throw new KernelException(kernel, problem);
        }
    }

    static long[] dims(Tensor t) {
        return Arrays.stream(t.shape().dims()).asLongStream().toArray();
    }

    /** {@code d} without its last {@code last} dimensions. */
    static long[] without(long[] d, int last) {
        return Arrays.copyOf(d, d.length - last);
    }

    /** {@code d} followed by {@code more}. */
    static long[] with(long[] d, long... more) {
        long[] r = Arrays.copyOf(d, d.length + more.length);
        System.arraycopy(more, 0, r, d.length, more.length);
        return r;
    }

    /** The ACL data type code of {@code t}. */
    static int acl(DType t) {
        return AclDataTypes.of(t);
    }
}
