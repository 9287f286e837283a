package dev.ascendj.core;

/**
 * An ordered queue of work on one device, like an {@code aclrtStream}: work enqueued on one
 * stream runs in order; work on different streams is ordered only through {@link Event}s.
 * Host reads of device results are valid after {@link #synchronize()}.
 */
public interface Stream extends AutoCloseable {
    /** The device this stream runs on. */
    Device device();

    /** Blocks until everything enqueued so far has completed. */
    void synchronize();

    /** Makes later work on this stream wait until {@code event} has completed. */
    void waitEvent(Event event);

    /** Closes the stream after the work already enqueued has completed. */
    @Override
    void close();

    /** Throws if {@code d} is not this stream's device. */
    default void checkDevice(Device d) {
        if (d != device()) {
            throw new IllegalArgumentException("stream of " + device() + " cannot order work on " + d);
        }
    }
}
