package dev.ascendj.core;

/**
 * A marker in a stream, like an {@code aclrtEvent}: {@linkplain #record(Stream) recorded} on a
 * stream, it completes when the work enqueued before it has; streams can
 * {@linkplain Stream#waitEvent(Event) wait} for it, the host can {@linkplain #synchronize() block}
 * on it, and two completed events give the time between them.
 */
public interface Event extends AutoCloseable {
    /** Records this event at the current end of {@code stream}'s queue. */
    void record(Stream stream);

    /** Blocks the host until the event has completed. */
    void synchronize();

    /** True once the work before the recorded point has completed. */
    boolean isCompleted();

    /**
     * Milliseconds between {@code start} and this event, both recorded and completed
     * ({@code aclrtEventElapsedTime(ms, start, end)}).
     */
    float elapsedMillisSince(Event start);

    @Override
    void close();
}
