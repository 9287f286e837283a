package dev.ascendj.cli;

import dev.ascendj.launch.LaunchException;
import dev.ascendj.launch.Monitor;
import dev.ascendj.launch.PlanFiles;
import dev.ascendj.plan.Plan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ascendj monitor LOGDIR}: follows or summarises the logs of every rank. */
@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = "Summarise (or --follow) the training logs of all ranks: loss, loss scale, overflows, step time, tokens/s, "
                + "stragglers, silent ranks, HCCL errors and loss spikes.",
        footer = {"", "Examples:",
            "  ascendj monitor output/ --plan plan.json --plot loss.png",
            "  ascendj monitor output/ --follow --interval 30 --spike-factor 2",
            "", "Exit codes: 0 healthy, 1 something needs attention, 2 invalid input."})
public final class MonitorCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "LOGDIR", description = "The job's output directory (rank_N/mindformer.log, msrun_log/worker_N.log, train-log.jsonl).")
    Path dir;

    @Option(names = "--plan", paramLabel = "FILE", description = "The plan: gives tokens per step and devices for tokens/s.")
    Path plan;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Write the loss curve of every rank as a PNG.")
    Path plot;

    @Option(names = "--follow", description = "Re-read the logs every --interval seconds and redraw, until interrupted.")
    boolean follow;

    @Option(names = "--interval", defaultValue = "10", paramLabel = "S", description = "Seconds between redraws (default ${DEFAULT-VALUE}).")
    int interval;

    @Option(names = "--spike-factor", defaultValue = "1.5", paramLabel = "K", description = "A loss above K x the running median is a spike (default ${DEFAULT-VALUE}).")
    double spikeFactor;

    @Option(names = "--spike-window", defaultValue = "20", paramLabel = "N", description = "Steps in the running median (default ${DEFAULT-VALUE}).")
    int spikeWindow;

    @Option(names = "--straggler-ratio", defaultValue = "1.2", paramLabel = "R", description = "Median step time above R x the ranks' median is a straggler (default ${DEFAULT-VALUE}).")
    double stragglerRatio;

    @Option(names = "--silent-steps", defaultValue = "3", paramLabel = "N", description = "A rank N steps behind the leader is silent (default ${DEFAULT-VALUE}).")
    int silentSteps;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Monitor.Rules rules = new Monitor.Rules(spikeFactor, spikeWindow, stragglerRatio, silentSteps);
            long tokens = 0;
            int devices = 0;
            if (plan != null) {
                Plan p = PlanFiles.read(plan);
                tokens = p.job().tokensPerStep();
                devices = p.cluster().deviceCount();
            }
            Monitor.Report r = Monitor.analyse(Monitor.scan(dir), rules, tokens, devices);
            while (follow && !Thread.currentThread().isInterrupted()) {
                o.print("\033[H\033[2J");
                o.print(r.summary());
                o.flush();
                try {
                    Thread.sleep(Math.max(1, interval) * 1000L);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                r = Monitor.analyse(Monitor.scan(dir), rules, tokens, devices);
            }
            o.print(r.summary());
            if (plot != null) {
                Monitor.plot(r.logs(), plot);
                o.println("loss curves written to " + plot);
            }
            o.flush();
            return r.healthy() ? 0 : 1;
        } catch (LaunchException e) {
            err.println("ascendj monitor: " + e.getMessage());
            return 2;
        }
    }
}
