package dev.ascendj.cli;

import dev.ascendj.cpu.CpuThreads;
import picocli.CommandLine.Option;

/** The shared {@code --threads} option of commands that compute on the CPU. */
final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N",
            description = "CPU worker threads for kernels, OpenBLAS and the fast decoder (default: all cores, or"
                    + " -Dascendj.cpu.threads).")
    Integer threads;

    /** Applies the option, if given. */
    void apply() {
        if (threads != null) {
            CpuThreads.setThreads(threads);
        }
    }

    /** The thread count in effect (the option, else the backend's default): also the fast decoder's. */
    int count() {
        return threads != null ? threads : CpuThreads.threads();
    }
}
