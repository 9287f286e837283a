package dev.ascendj.cpu;

import dev.ascendj.core.Backend;
import dev.ascendj.core.DType;
import dev.ascendj.core.Device;
import dev.ascendj.core.Log;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Stream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Logger;

/**
 * The CPU backend: kernels written in Java, parallel across cores, with GEMM through OpenBLAS.
 *
 * <p>Configuration (system properties):
 * <ul>
 *   <li>{@code ascendj.cpu.threads}: worker threads for kernels and OpenBLAS (default: all cores);</li>
 *   <li>{@code ascendj.cpu.devices}: number of virtual devices (default 1);</li>
 *   <li>{@code ascendj.cpu.compute}: {@code fp16} or {@code bf16} to emulate an NPU's reduced-precision
 *       numerics by rounding every kernel output to that type (the 910A computes in FP16, the 910B
 *       also in BF16); default {@code fp32}; also per {@link #ops(Stream, DType)}.</li>
 * </ul>
 */
public final class CpuBackend implements Backend {
    private static final Logger LOG = Log.get(CpuBackend.class);

    /** Backend name. */
    public static final String NAME = "cpu";

    private final List<CpuDevice> devices = new CopyOnWriteArrayList<>();
    private final DType computeDefault;

    /** A backend configured from system properties. */
    public CpuBackend() {
        this(Integer.getInteger("ascendj.cpu.devices", 1), computeProperty());
    }

    /** A backend with {@code deviceCount} virtual devices computing in FP32. */
    public CpuBackend(int deviceCount) {
        this(deviceCount, DType.FP32);
    }

    /**
     * A backend with {@code deviceCount} virtual devices whose {@link #ops(Stream)} compute in
     * {@code compute}: FP32, or FP16/BF16 emulated by rounding every kernel output.
     */
    public CpuBackend(int deviceCount, DType compute) {
        if (deviceCount < 1) {
            throw new IllegalArgumentException("a CPU backend needs at least one device, got " + deviceCount);
        }
        for (int i = 0; i < deviceCount; i++) {
            devices.add(new CpuDevice(this, i, 0));
        }
        this.computeDefault = checkCompute(compute);
        LOG.debug("CPU backend: {} device(s), {} thread(s), computing in {}", deviceCount, CpuThreads.threads(),
                compute);
    }

    /**
     * The most native scratch memory the CPU kernels (of every backend in this JVM) held at once
     * since the last {@link #resetScratchHighWater()}: attention's per-worker score tiles and
     * gradient accumulators, counted as they are allocated and freed. Device tensors are not
     * included ({@link dev.ascendj.core.Device#memoryInfo()} counts those).
     */
    public static long scratchHighWaterBytes() {
        return Scratch.highWaterBytes();
    }

    /** Starts a new {@link #scratchHighWaterBytes()} mark at the scratch alive now; returns that amount. */
    public static long resetScratchHighWater() {
        Scratch.resetHighWater();
        return Scratch.liveBytes();
    }

    private static DType computeProperty() {
        String value = System.getProperty("ascendj.cpu.compute", "fp32");
        try {
            return DType.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property ascendj.cpu.compute: " + e.getMessage(), e);
        }
    }

    private static DType checkCompute(DType compute) {
        if (compute != DType.FP32 && compute != DType.FP16 && compute != DType.BF16) {
            throw new IllegalArgumentException("the CPU backend computes in fp32, fp16 or bf16, not " + compute);
        }
        return compute;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int deviceCount() {
        return devices.size();
    }

    /**
     * Makes sure at least {@code count} virtual devices exist (for a virtual cluster) and returns
     * the device count.
     */
    public synchronized int ensureDevices(int count) {
        while (devices.size() < count) {
            devices.add(new CpuDevice(this, devices.size(), 0));
        }
        return devices.size();
    }

    @Override
    public CpuDevice device(int id) {
        if (id < 0 || id >= devices.size()) {
            throw new IllegalArgumentException("no CPU device " + id + " (the backend has " + devices.size() + ")");
        }
        return devices.get(id);
    }

    @Override
    public Ops ops(Stream stream) {
        return ops(stream, computeDefault);
    }

    /**
     * The kernels on {@code stream}, rounding every output to {@code compute} when it is FP16 (as
     * on the 910A) or BF16 (as the 910B can), accumulating in FP32.
     */
    @Override
    public CpuOps ops(Stream stream, DType compute) {
        checkCompute(compute);
        if (!(stream instanceof CpuStream) || !devices.contains((CpuDevice) stream.device())) {
            throw new IllegalArgumentException(stream + " does not belong to this CPU backend");
        }
        return new CpuOps((CpuStream) stream, compute);
    }

    @Override
    public Ops ops(Device device) {
        return ops(device.defaultStream());
    }

    @Override
    public void close() {
        // Devices own no pools; memory is released with the buffers.
    }

    @Override
    public String toString() {
        return "CpuBackend(" + devices.size() + " devices)";
    }

    /** Devices as a list view. */
    public List<CpuDevice> devices() {
        return List.copyOf(devices);
    }
}
