package dev.ascendj.cpu;

import dev.ascendj.core.Backend;
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
 *   <li>{@code ascendj.cpu.fp16}: {@code true} to emulate the 910A's FP16 numerics by rounding every
 *       kernel output through FP16 (default false; also per {@link #ops(Stream, boolean)}).</li>
 * </ul>
 */
public final class CpuBackend implements Backend {
    private static final Logger LOG = Log.get(CpuBackend.class);

    /** Backend name. */
    public static final String NAME = "cpu";

    private final List<CpuDevice> devices = new CopyOnWriteArrayList<>();
    private final boolean fp16Default;

    /** A backend configured from system properties. */
    public CpuBackend() {
        this(Integer.getInteger("ascendj.cpu.devices", 1), Boolean.getBoolean("ascendj.cpu.fp16"));
    }

    /** A backend with {@code deviceCount} virtual devices. */
    public CpuBackend(int deviceCount, boolean fp16Emulation) {
        if (deviceCount < 1) {
            throw new IllegalArgumentException("a CPU backend needs at least one device, got " + deviceCount);
        }
        for (int i = 0; i < deviceCount; i++) {
            devices.add(new CpuDevice(this, i, 0));
        }
        this.fp16Default = fp16Emulation;
        LOG.debug("CPU backend: {} device(s), {} thread(s), FP16 emulation {}", deviceCount,
                CpuThreads.threads(), fp16Emulation);
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
        return ops(stream, fp16Default);
    }

    /** The kernels on {@code stream}, rounding every output through FP16 when {@code fp16Emulation} (as on the 910A). */
    @Override
    public CpuOps ops(Stream stream, boolean fp16Emulation) {
        if (!(stream instanceof CpuStream) || !devices.contains((CpuDevice) stream.device())) {
            throw new IllegalArgumentException(stream + " does not belong to this CPU backend");
        }
        return new CpuOps((CpuStream) stream, fp16Emulation);
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
