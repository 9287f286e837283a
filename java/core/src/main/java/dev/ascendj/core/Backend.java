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
     * One communicator per device, for a group whose rank {@code i} runs on {@code devices.get(i)}, all
     * in this process (HCCL's {@code HcclCommInitAll}; threads of one JVM on the CPU). Each rank's
     * collectives must then be called from its own thread. Backends without in-process groups throw
     * {@link UnsupportedOperationException}.
     */
    default java.util.List<Communicator> communicators(java.util.List<Device> devices) {
        throw new UnsupportedOperationException("the " + name() + " backend cannot build in-process communicators");
    }

    /** Releases the backend's devices and pools. */
    @Override
    void close();
}
