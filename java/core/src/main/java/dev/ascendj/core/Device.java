package dev.ascendj.core;

/**
 * One compute device: an NPU, or a (virtual) CPU device. Names and semantics follow ACL's
 * runtime: memory is allocated on a device, work is ordered on its {@link Stream}s, and
 * {@link Event}s mark points in a stream.
 *
 * <pre>{@code
 * Device dev = Backends.get().device(0);
 * try (Scope scope = Scope.open()) {
 *     Tensor x = Tensor.empty(dev, DType.FP32, Shape.of(4, 4));
 *     ...
 * }
 * }</pre>
 */
public interface Device {
    /** The backend this device belongs to. */
    Backend backend();

    /** The device type, {@code "cpu"} or {@code "npu"}. */
    String type();

    /** The device id within its backend (the NPU's logical id, or the virtual CPU device index). */
    int id();

    /** Allocates {@code bytes} bytes of device memory. Contents are unspecified. */
    Buffer allocate(long bytes);

    /** The stream that work runs on when none is given. */
    Stream defaultStream();

    /** Creates a new stream; close it when done. */
    Stream createStream();

    /** Creates an event (with timing); close it when done. */
    Event createEvent();

    /** Blocks until all work on all streams of this device is complete. */
    void synchronize();

    /** Memory use of this device. */
    MemoryInfo memoryInfo();
}
