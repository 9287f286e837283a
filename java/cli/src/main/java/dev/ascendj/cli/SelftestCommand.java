package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ascendj.acl.Cann;
import dev.ascendj.ascend.AscendBackend;
import dev.ascendj.ascend.AscendOps;
import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.Blas;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.cpu.selftest.KernelSelftest;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ascendj selftest}: every kernel of a backend once, checked against double precision. */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Run every kernel once on small shapes and compare it with a double-precision reference.",
        footer = {"", "Examples:",
            "  ascendj selftest                                         the CPU kernels",
            "  ascendj selftest --backend ascend                        the aclnn kernels on NPU 0",
            "  ASCENDJ_CANN=simulator ascendj selftest --backend ascend  the same over the simulated CANN"})
final class SelftestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "Backend whose kernels are checked: cpu (default) or ascend (NPU 0 of this machine; "
                    + "the simulated CANN when ASCENDJ_CANN=simulator is set).")
    String backend;
    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Ops ops;
        ToDoubleFunction<String> tolerance;
        String header;
        switch (backend) {
            case "cpu" -> {
                ops = Backends.get("cpu").ops();
                tolerance = kernel -> KernelSelftest.TOLERANCE;
                header = String.format("CPU backend: %d thread(s), %s", CpuThreads.threads(), Blas.describe());
            }
            case AscendBackend.NAME -> {
                Backend b = Backends.get(AscendBackend.NAME);
                AscendOps aops = (AscendOps) b.ops(b.device(0));
                ops = aops;
                tolerance = aops::relativeErrorBound;
                header = String.format("Ascend backend: %s%s, %d NPU(s), %s operators", aops.soc().name(),
                        Cann.isSimulator() ? " (simulated CANN)" : "", b.deviceCount(),
                        aops.soc().fusedOps() ? "fused" : "composed");
            }
            default -> throw new ParameterException(spec.commandLine(),
                    "--backend: unknown backend '" + backend + "' (cpu or ascend)");
        }
        List<KernelSelftest.Row> rows = new KernelSelftest(ops, tolerance).run();
        long failed = rows.stream().filter(r -> !r.passed()).count();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        } else {
            out.printf("%s%n%n", header);
            out.printf("%-28s %-34s %11s %11s %10s %10s  %s%n", "kernel", "inputs", "max abs err", "max rel err",
                    "tolerance", "time (us)", "result");
            for (KernelSelftest.Row r : rows) {
                out.printf("%-28s %-34s %11.2e %11.2e %10.0e %10.1f  %s%n", r.kernel(), r.shapes(), r.maxAbs(),
                        r.maxRel(), r.tolerance(), r.micros(), !r.implemented() ? "n/a" : r.passed() ? "ok" : "FAIL");
            }
            out.printf("%n%d kernels checked against double precision: %s%n", rows.size(),
                    failed == 0 ? "all passed" : failed + " FAILED");
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
