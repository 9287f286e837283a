package dev.ascendj.ascend;

/** An Ascend machine for tests: the fakes ({@link FakeNpu}) or the simulated CANN ({@link #simulated()}). */
interface TestNpu extends AutoCloseable {
    AscendBackend backend();

    default NpuDevice device() {
        return backend().device(0);
    }

    default AscendOps ops() {
        return backend().ops(device());
    }

    /** Ends a test on this machine (the fakes also check that everything was released). */
    @Override
    void close();

    /** The simulated CANN's shared backend; closing waits for the device's work. */
    static TestNpu simulated() {
        AscendBackend b = SimulatedCann.backend();
        return new TestNpu() {
            @Override
            public AscendBackend backend() {
                return b;
            }

            @Override
            public void close() {
                b.device(0).synchronize();
            }
        };
    }
}
