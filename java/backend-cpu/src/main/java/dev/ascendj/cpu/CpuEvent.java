package dev.ascendj.cpu;

import dev.ascendj.core.Event;
import dev.ascendj.core.Stream;

/** A CPU event: recording it stamps the time, since the work before it has already completed. */
final class CpuEvent implements Event {
    private volatile long nanos = -1;
    private volatile boolean closed;

    @Override
    public void record(Stream stream) {
        check();
        if (!(stream instanceof CpuStream)) {
            throw new IllegalArgumentException("a CPU event cannot be recorded on " + stream);
        }
        ((CpuStream) stream).checkOpen();
        nanos = System.nanoTime();
    }

    @Override
    public void synchronize() {
        check();
    }

    @Override
    public boolean isCompleted() {
        check();
        return nanos >= 0;
    }

    @Override
    public float elapsedMillisSince(Event start) {
        check();
        if (!(start instanceof CpuEvent)) {
            throw new IllegalArgumentException("cannot time a CPU event against " + start);
        }
        long s = ((CpuEvent) start).nanos;
        if (s < 0 || nanos < 0) {
            throw new IllegalStateException("both events must be recorded before timing them");
        }
        return (nanos - s) / 1e6f;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("event used after close");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
