package dev.ascendj.ascend;

import dev.ascendj.ascend.spi.AclApi;
import dev.ascendj.core.Event;
import dev.ascendj.core.Stream;

/** An ACL event: recorded on a stream, waited for by streams or the host, and timed against another. */
public final class NpuEvent implements Event {
    private final NpuDevice device;
    private final long handle;
    private volatile boolean recorded;
    private volatile boolean closed;

    NpuEvent(NpuDevice device) {
        this.device = device;
        long[] e = new long[1];
        AclException.check(device.api(), device.api().createEvent(e), "aclrtCreateEvent");
        this.handle = e[0];
    }

    NpuDevice device() {
        return device;
    }

    /** The native {@code aclrtEvent}. */
    public long handle() {
        checkOpen();
        return handle;
    }

    @Override
    public void record(Stream stream) {
        checkOpen();
        if (!(stream instanceof NpuStream s) || s.device() != device) {
            throw new IllegalArgumentException("an event of " + device + " cannot be recorded on " + stream);
        }
        device.bind();
        AclException.check(device.api(), device.api().recordEvent(handle, s.handle()), "aclrtRecordEvent");
        recorded = true;
    }

    @Override
    public void synchronize() {
        checkOpen();
        device.bind();
        AclException.check(device.api(), device.api().synchronizeEvent(handle), "aclrtSynchronizeEvent");
    }

    @Override
    public boolean isCompleted() {
        checkOpen();
        device.bind();
        int[] status = new int[1];
        AclException.check(device.api(), device.api().queryEventStatus(handle, status), "aclrtQueryEventStatus");
        return status[0] == AclApi.EVENT_COMPLETE;
    }

    @Override
    public float elapsedMillisSince(Event start) {
        checkOpen();
        if (!(start instanceof NpuEvent s) || s.device != device) {
            throw new IllegalArgumentException("cannot time an event of " + device + " against " + start);
        }
        if (!recorded || !s.recorded) {
            throw new IllegalStateException("both events must be recorded before timing them");
        }
        device.bind();
        float[] ms = new float[1];
        AclException.check(device.api(), device.api().eventElapsedTime(ms, s.handle(), handle), "aclrtEventElapsedTime");
        return ms[0];
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("event of " + device + " used after close");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.bind();
        AclException.check(device.api(), device.api().destroyEvent(handle), "aclrtDestroyEvent");
    }
}
