package dev.ascendj.ascend;

import dev.ascendj.ascend.jcpp.JavaCppAclApi;
import dev.ascendj.ascend.jcpp.JavaCppAclnnApi;
import dev.ascendj.ascend.jcpp.JavaCppHcclApi;
import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.ascend.spi.AclnnApi;
import dev.ascendj.ascend.spi.HcclApi;
import dev.ascendj.core.Backend;
import dev.ascendj.core.Communicator;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Log;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Stream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.logging.log4j.Logger;

/**
 * The Ascend backend: {@link NpuDevice}s opened on first use and the aclnn kernels of
 * {@link AscendOps}, chosen per SoC. Obtain it with {@code Backends.get("ascend")} (or
 * {@link #open()}); close it at the end of the program, which resets the devices and finalizes ACL.
 *
 * <pre>{@code
 * try (AscendBackend npu = AscendBackend.open()) {
 *     NpuDevice dev = npu.device(0);
 *     Ops ops = npu.ops(dev);
 *     ...
 * }
 * }</pre>
 */
public final class AscendBackend implements Backend {
    private static final Logger LOG = Log.get(AscendBackend.class);

    /** Backend name. */
    public static final String NAME = "ascend";

    private final AclRuntime runtime;
    private final AclnnApi aclnn;
    private final java.util.function.Supplier<HcclApi> hcclFactory;
    private volatile HcclApi hccl;
    private final AtomicReferenceArray<NpuDevice> devices;
    private volatile boolean closed;

    /** A backend over the JavaCPP bindings (CANN must be installed). */
    public static AscendBackend open() {
        return new AscendBackend(JavaCppAclApi.instance(), JavaCppAclnnApi.instance());
    }

    /** A backend over the given native calls (tests pass fakes); HCCL through the JavaCPP bindings. */
    public AscendBackend(AclApi acl, AclnnApi aclnn) {
        this(acl, aclnn, JavaCppHcclApi::instance);
    }

    /** A backend over the given native calls; {@code hccl} is asked for the HCCL calls on first use. */
    public AscendBackend(AclApi acl, AclnnApi aclnn, java.util.function.Supplier<HcclApi> hccl) {
        this.runtime = AclRuntime.acquire(acl);
        this.aclnn = aclnn;
        this.hcclFactory = hccl;
        int n;
        try {
            n = runtime.deviceCount();
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
        this.devices = new AtomicReferenceArray<>(n);
        LOG.debug("Ascend backend: {} NPU(s)", n);
    }

    /** The ACL runtime calls. */
    public AclApi acl() {
        return runtime.api();
    }

    /** The aclnn calls (for {@link AclTensor} and operators AscendJ does not wrap). */
    public AclnnApi aclnn() {
        return aclnn;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int deviceCount() {
        return devices.length();
    }

    /** NPU {@code id}, opened (context, default stream) on first use. */
    @Override
    public synchronized NpuDevice device(int id) {
        if (closed) {
            throw new IllegalStateException("Ascend backend used after close");
        }
        if (id < 0 || id >= devices.length()) {
            throw new IllegalArgumentException("no NPU " + id + " (" + devices.length() + " visible)");
        }
        NpuDevice d = devices.get(id);
        if (d == null) {
            d = new NpuDevice(this, runtime.api(), id);
            devices.set(id, d);
        }
        return d;
    }

    @Override
    public AscendOps ops(Stream stream) {
        if (!(stream instanceof NpuStream s) || s.device().backend() != this) {
            throw new IllegalArgumentException(stream + " does not belong to this Ascend backend");
        }
        return new AscendOps(this, s, Soc.of(s.device().socName()));
    }

    @Override
    public AscendOps ops(Device device) {
        return ops(device.defaultStream());
    }

    /**
     * The kernels on {@code stream} computing in {@code compute}: FP32 as {@link #ops(Stream)}; FP16
     * (every SoC) or BF16 (SoCs with BF16: the 910B, not the 910A) with matmul operands in that
     * type and every kernel output rounded to it, as the executor's reduced-precision modes need
     * (see {@link ReducedPrecisionOps}).
     *
     * @throws UnsupportedOperationException for BF16 on a SoC without it
     */
    @Override
    public Ops ops(Stream stream, DType compute) {
        AscendOps ops = ops(stream);
        switch (compute) {
            case FP32:
                return ops;
            case FP16:
                return new ReducedPrecisionOps(new AscendOps(this, (NpuStream) stream, ops.soc(), DType.FP16), compute);
            case BF16:
                if (!ops.soc().bf16()) {
                    throw new UnsupportedOperationException("the " + ops.soc().name() + " has no BF16 (its cube units"
                            + " compute in FP16): use FP16 with loss scaling");
                }
                return new ReducedPrecisionOps(new AscendOps(this, (NpuStream) stream, ops.soc(), DType.BF16), compute);
            default:
                throw new IllegalArgumentException("compute type " + compute + " is not fp32, fp16 or bf16");
        }
    }

    /** The HCCL calls, loaded on first use. */
    public HcclApi hccl() {
        HcclApi h = hccl;
        if (h == null) {
            synchronized (this) {
                if (hccl == null) {
                    hccl = hcclFactory.get();
                }
                h = hccl;
            }
        }
        return h;
    }

    /**
     * One {@link HcclCommunicator} per device, all in this process ({@code HcclCommInitAll}); rank
     * {@code i} runs on {@code devices.get(i)}. Close each when done.
     */
    @Override
    public List<Communicator> communicators(List<Device> devices) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("a communicator group needs at least one device");
        }
        int[] ids = new int[devices.size()];
        NpuDevice[] npus = new NpuDevice[devices.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!(devices.get(i) instanceof NpuDevice d) || d.backend() != this) {
                throw new IllegalArgumentException(devices.get(i) + " is not an NPU of this backend");
            }
            npus[i] = d;
            ids[i] = d.id();
        }
        HcclApi api = hccl();
        npus[0].bind();
        long[] comms = new long[ids.length];
        HcclException.check(api, runtime.api(), api.commInitAll(ids, comms), "HcclCommInitAll");
        List<Communicator> result = new ArrayList<>();
        try {
            for (int i = 0; i < ids.length; i++) {
                result.add(new HcclCommunicator(api, npus[i], comms[i]));
            }
        } catch (RuntimeException e) {
            // The communicator that failed destroyed itself; the ones after it were never wrapped.
            for (int i = result.size() + 1; i < ids.length; i++) {
                api.commDestroy(comms[i]);
            }
            result.forEach(Communicator::close);
            throw e;
        }
        return result;
    }

    /** Closes every opened device, then releases ACL (finalized when no other user holds it). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (int i = 0; i < devices.length(); i++) {
            NpuDevice d = devices.get(i);
            if (d != null) {
                try {
                    d.close();
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
        }
        runtime.close();
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "AscendBackend(" + devices.length() + " NPUs)";
    }
}
