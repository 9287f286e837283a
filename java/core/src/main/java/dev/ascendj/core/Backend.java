package dev.ascendj.core;

/**
 * A compute backend: its devices and the {@link Ops} that run on them. Implementations are
 * found through {@link BackendProvider} and {@link java.util.ServiceLoader}; obtain one from
 * {@link Backends}.
 */
public interface Backend extends AutoCloseable {
    /** The backend's name, as used with {@code -Dascendj.backend=NAME}: {@code "cpu"}, {@code "ascend"}. */
    String name();

    /** Number of devices this backend drives. */
    int deviceCount();

    /** Device {@code id}, from 0 to {@code deviceCount() - 1}. */
    Device device(int id);

    /** The kernels, enqueued on {@code stream}. */
    Ops ops(Stream stream);

    /** The kernels on a device's default stream. */
    default Ops ops(Device device) {
        return ops(device.defaultStream());
    }

    /** The kernels on device 0's default stream. */
    default Ops ops() {
        return ops(device(0));
    }

    /**
     * The kernels on {@code stream}, computing in {@code compute}: {@link DType#FP32} is
     * {@link #ops(Stream)}; {@link DType#FP16} or {@link DType#BF16} round every kernel output to
     * that type while accumulating in FP32, as an NPU's reduced-precision kernels do (the Ascend
     * 910A computes in FP16 only, the 910B also in BF16). The CPU backend emulates both; the Ascend
     * backend also takes matmul operands in that type, as its cube units do. Backends without the
     * mode refuse.
     */
    default Ops ops(Stream stream, DType compute) {
        if (compute != DType.FP32) {
            throw new UnsupportedOperationException("the " + name() + " backend has no " + compute + " compute mode");
        }
        return ops(stream);
    }

    /**
     * One communicator per device, for a group whose rank {@code i} runs on {@code devices.get(i)}, all
     * in this process (HCCL's {@code HcclCommInitAll}; threads of one JVM on the CPU), from the
     * backend's {@link CollectiveFabric}. Each rank's collectives must then be called from its own
     * thread. Backends without a fabric throw {@link UnsupportedOperationException}.
     */
    default java.util.List<Communicator> communicators(java.util.List<Device> devices) {
        int n = devices.size();
        int[] ranks = new int[n];
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ranks[i] = i;
            ids[i] = devices.get(i).id();
            if (devices.get(i) != device(ids[i])) {
                throw new IllegalArgumentException("position " + i + " holds " + devices.get(i) + ", not a device of the "
                        + name() + " backend");
            }
        }
        FabricSpec spec = new FabricSpec(n, ranks, ids, new int[n], new int[n], Rendezvous.SINGLE,
                FabricSpec.configuredTimeout());
        CollectiveFabric fabric = Fabrics.open(this, spec);
        fabric.create("world", ranks);
        java.util.List<Communicator> list = new java.util.ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            list.add(fabric.member("world", r));
        }
        return list;
    }

    /** Releases the backend's devices and pools. */
    @Override
    void close();
}
