package dev.ascendj.cli;

import dev.ascendj.acl.Cann;
import dev.ascendj.ascend.AscendBackend;
import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import dev.ascendj.core.DType;
import dev.ascendj.cpu.CpuBackend;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --backend}: what the parallel executor computes on, resolved here and nowhere else:
 * {@code cpu}, one virtual device per rank of this process; {@code ascend}, each rank on the NPU
 * the plan's rank map names, groups over HCCL (with {@code ASCENDJ_CANN=simulator}, over the
 * simulated CANN the jar carries).
 */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "With a plan: cpu (a virtual device per rank) or ascend (each rank on the NPU the plan's rank"
                    + " map names, groups over HCCL; ASCENDJ_CANN=simulator runs over the simulated CANN)"
                    + " (default ${DEFAULT-VALUE}).")
    String name;

    /** The backend a run computes on, closed after the run when the run made it. */
    record Lease(Backend backend, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                backend.close();
            }
        }
    }

    /** Fails naming the option when the name is unknown, or {@code ascend} is asked for outside a plan's run. */
    void check(CommandLine cl, boolean parallel) {
        if (!name.equals(CpuBackend.NAME) && !name.equals(AscendBackend.NAME)) {
            throw new ParameterException(cl, "--backend must be cpu or ascend, got '" + name + "'");
        }
        if (npus() && !parallel) {
            throw new ParameterException(cl, "--backend ascend runs a plan's partition on NPUs: give --plan FILE (or"
                    + " --cluster C --auto-plan)");
        }
    }

    /**
     * Fails before anything is loaded or written when the devices cannot compute in {@code compute}
     * (BF16 on a 910A, whose SoC the Ascend backend reads); the CPU backend emulates every type.
     */
    void checkCompute(DType compute) {
        if (npus() && compute != DType.FP32) {
            Backend npu = Backends.get(AscendBackend.NAME);
            npu.ops(npu.device(0).defaultStream(), compute);
        }
    }

    /** Whether ranks run on the NPUs the plan's rank map names (rather than on virtual devices). */
    boolean npus() {
        return name.equals(AscendBackend.NAME);
    }

    /**
     * The backend for {@code localRanks} ranks of this process: a new CPU backend with a device per
     * rank, or the process's Ascend backend (ACL is initialised once per process, so it is shared
     * and stays open).
     */
    Lease open(int localRanks) {
        if (npus()) {
            return new Lease(Backends.get(AscendBackend.NAME), false);
        }
        return new Lease(new CpuBackend(localRanks), true);
    }

    /** How the devices of {@code n} ranks are called in messages: "8 virtual devices", "8 NPUs (simulated CANN)". */
    String devices(int n) {
        if (!npus()) {
            return n + " virtual devices";
        }
        return n + " NPU" + (n == 1 ? "" : "s") + (Cann.isSimulator() ? " (simulated CANN)" : "");
    }
}
