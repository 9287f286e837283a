package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ascendj.core.Backends;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.Blas;
import dev.ascendj.cpu.CpuThreads;
import dev.ascendj.cpu.selftest.KernelSelftest;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj selftest}: every CPU kernel once, checked against double precision. */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Run every CPU kernel once on small shapes and compare it with a double-precision reference.")
final class SelftestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Ops ops = Backends.get("cpu").ops();
        List<KernelSelftest.Row> rows = new KernelSelftest(ops).run();
        long failed = rows.stream().filter(r -> !r.passed()).count();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        } else {
            out.printf("CPU backend: %d thread(s), %s%n%n", CpuThreads.threads(), Blas.describe());
            out.printf("%-28s %-34s %11s %11s %10s  %s%n", "kernel", "inputs", "max abs err", "max rel err",
                    "time (us)", "result");
            for (KernelSelftest.Row r : rows) {
                out.printf("%-28s %-34s %11.2e %11.2e %10.1f  %s%n", r.kernel(), r.shapes(), r.maxAbs(), r.maxRel(),
                        r.micros(), r.passed() ? "ok" : "FAIL");
            }
            out.printf("%n%d kernels checked against double precision (tolerance %.0e relative): %s%n", rows.size(),
                    KernelSelftest.TOLERANCE, failed == 0 ? "all passed" : failed + " FAILED");
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
