package dev.ascendj.plan;

import java.util.List;

/** Catalogs for tests: the built-in profiles with a fixed, not measured, CPU. */
final class TestCatalogs {
    private TestCatalogs() {
    }

    /** A CPU of 100 GFLOP/s and 20 GB/s copy bandwidth with 16 GiB of RAM. */
    static final CpuMeasurement FIXED_CPU = new CpuMeasurement(100e9,
            new EfficiencyCurve(List.of(new EfficiencyCurve.Point(0, 0.2), new EfficiencyCurve.Point(0.05, 0.7),
                    new EfficiencyCurve.Point(0.27, 1.0))),
            20e9, 16L << 30, 2L << 30, 2, "fixed for tests");

    static HardwareCatalog catalog() {
        return HardwareCatalog.builtIn().withCpuMeasurement(() -> FIXED_CPU);
    }
}
