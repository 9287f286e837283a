package dev.ascendj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ascendj.bench.BenchResult;
import dev.ascendj.bench.BlockBench;
import dev.ascendj.bench.CollectiveBench;
import dev.ascendj.bench.DecodeGemmBench;
import dev.ascendj.bench.ExecutorBench;
import dev.ascendj.bench.ExecutorReport;
import dev.ascendj.bench.ExecutorShape;
import dev.ascendj.bench.GemmBench;
import dev.ascendj.bench.TrainBench;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ascendj bench ...}: the benchmarks of the {@code bench} module. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure speed: GEMM against direct OpenBLAS, a transformer block forward+backward, whole training steps, collectives, attention memory, the parallel executor against the planner, generation.",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Block.class, BenchCommand.Train.class,
            BenchCommand.Collectives.class, BenchCommand.AttentionMemoryCommand.class, BenchCommand.Executor.class,
            BenchGenerateCommand.class, BenchCommand.DecodeGemm.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static int print(CommandSpec spec, BenchResult r, boolean json) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            out.println(m.writeValueAsString(r.metrics()));
        } else {
            out.print(r.render());
        }
        out.flush();
        return 0;
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true,
            description = "GFLOP/s of Ops.matmul against a direct OpenBLAS sgemm of the same shape.")
    static final class Gemm implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ThreadsOption threads;
        @Option(names = "--size", defaultValue = "1024", description = "M = N = K (default ${DEFAULT-VALUE}).")
        int size;
        @Option(names = "--runs", defaultValue = "10", description = "Timed runs per round (default ${DEFAULT-VALUE}).")
        int runs;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            return print(spec, new GemmBench(size, size, size, runs).run(), json);
        }
    }

    @Command(name = "decode-gemm", mixinStandardHelpOptions = true,
            description = {"GFLOP/s of the fast decoder's product at a few rows (one per sequence of a batched decoding"
                    + " step) against OpenBLAS sgemm of the same shape, one thread each, on the weight shapes of"
                    + " 'bench generate' (llama2-15m and one LLaMA2-7B-shaped layer).",
                "Set OPENBLAS_CORETYPE to try OpenBLAS's other kernels."},
            footer = {"", "Example:", "  ascendj bench decode-gemm --rows 16 --json"})
    static final class DecodeGemm implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--rows", defaultValue = "16", description = "Input rows (default ${DEFAULT-VALUE}).")
        int rows;
        @Option(names = "--runs", defaultValue = "5", description = "Timed rounds; the best is reported (default ${DEFAULT-VALUE}).")
        int runs;
        @Option(names = "--scalar", description = "Use the scalar decode kernels (the fallback without the Vector API).")
        boolean scalar;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return print(spec, new DecodeGemmBench(rows, runs, scalar, DecodeGemmBench.SHAPES).run(), json);
        }
    }

    @Command(name = "block", mixinStandardHelpOptions = true,
            description = "Tokens/s of one LLaMA2 transformer block, forward and backward.")
    static final class Block implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ThreadsOption threads;
        @Option(names = "--hidden", defaultValue = "512", description = "Hidden size (default ${DEFAULT-VALUE}).") int hidden;
        @Option(names = "--heads", defaultValue = "8", description = "Attention heads (default ${DEFAULT-VALUE}).") int heads;
        @Option(names = "--intermediate", defaultValue = "1376", description = "MLP intermediate size (default ${DEFAULT-VALUE}).") int intermediate;
        @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sequence (default ${DEFAULT-VALUE}).") int seq;
        @Option(names = "--batch", defaultValue = "8", description = "Sequences per batch (default ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--runs", defaultValue = "5", description = "Timed runs; the median is reported (default ${DEFAULT-VALUE}).") int runs;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            BlockBench.Config cfg = new BlockBench.Config(hidden, heads, intermediate, seq, batch, runs);
            return print(spec, new BlockBench(cfg).run(), json);
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Tokens/s, step time and peak memory of whole training steps (forward, backward, "
                    + "clipping, AdamW) of a small LLaMA2 on random tokens.",
                "Defaults: the configuration compared with PyTorch by tools/bench_train_torch.py."})
    static final class Train implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ThreadsOption threads;
        @Option(names = "--hidden", defaultValue = "288", description = "Hidden size (default ${DEFAULT-VALUE}).") int hidden;
        @Option(names = "--layers", defaultValue = "6", description = "Decoder layers (default ${DEFAULT-VALUE}).") int layers;
        @Option(names = "--heads", defaultValue = "6", description = "Attention heads (default ${DEFAULT-VALUE}).") int heads;
        @Option(names = "--kv-heads", defaultValue = "6", description = "Key/value heads (fewer than --heads: grouped-query attention) (default ${DEFAULT-VALUE}).") int kvHeads;
        @Option(names = "--intermediate", defaultValue = "768", description = "MLP intermediate size (default ${DEFAULT-VALUE}).") int intermediate;
        @Option(names = "--vocab", defaultValue = "32000", description = "Vocabulary size (default ${DEFAULT-VALUE}).") int vocab;
        @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per sequence (default ${DEFAULT-VALUE}).") int seq;
        @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--method", defaultValue = "full", description = "full or lora (default ${DEFAULT-VALUE}).")
        String method;
        @Option(names = "--lora-rank", defaultValue = "8", description = "LoRA rank with --method lora (default ${DEFAULT-VALUE}).") int loraRank;
        @Option(names = "--warmup", defaultValue = "3",
                description = "Untimed steps first, while JIT compilation settles (default ${DEFAULT-VALUE}).")
        int warmup;
        @Option(names = "--steps", defaultValue = "5", description = "Timed steps; the median is reported (default ${DEFAULT-VALUE}).")
        int steps;
        @Option(names = "--seed", defaultValue = "42", description = "Seed of the initial weights and data (default ${DEFAULT-VALUE}).") long seed;
        @Option(names = "--op-times", description = "Also report wall time per kernel and matmul shape.")
        boolean opTimes;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            TrainBench.Config cfg = new TrainBench.Config(hidden, layers, heads, kvHeads, intermediate, vocab, seq,
                    batch, method, loraRank, warmup, steps, seed);
            return print(spec, new TrainBench(cfg, opTimes).run(), json);
        }
    }

    @Command(name = "collectives", mixinStandardHelpOptions = true,
            description = {"All-reduce and send/recv across virtual CPU devices against a plain memory copy, in one"
                    + " process and (with --processes) with the same ranks spread over child JVMs talking TCP on"
                    + " loopback, all in one run."})
    static final class Collectives implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--ranks", defaultValue = "8", description = "Ranks (default ${DEFAULT-VALUE}).")
        int ranks;
        @Option(names = "--mib", defaultValue = "64", description = "MiB per all-reduce (default ${DEFAULT-VALUE}).")
        int mib;
        @Option(names = "--runs", defaultValue = "5", description = "Timed runs; the median (default ${DEFAULT-VALUE}).")
        int runs;
        @Option(names = "--processes", defaultValue = "1",
                description = "Also spread the ranks over this many processes (default ${DEFAULT-VALUE}: one only).")
        int processes;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return print(spec, new CollectiveBench(ranks, (long) mib << 20, runs, processes).run(), json);
        }
    }

    @Command(name = "attention-memory", mixinStandardHelpOptions = true,
            description = "Peak memory of causal attention forward + backward at several sequence lengths: tensors,"
                    + " kernel scratch, and the full score matrix the kernels never form.")
    static final class AttentionMemoryCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ThreadsOption threads;
        @Option(names = "--seq-len", split = ",", defaultValue = "1024,4096",
                description = "Sequence lengths (default ${DEFAULT-VALUE}).")
        int[] seqLens;
        @Option(names = "--heads", defaultValue = "8", description = "Attention heads (default ${DEFAULT-VALUE}).") int heads;
        @Option(names = "--head-dim", defaultValue = "64", description = "Size of each head (default ${DEFAULT-VALUE}).") int headDim;
        @Option(names = "--batch", defaultValue = "1", description = "Sequences (default ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            dev.ascendj.core.Backend b = dev.ascendj.core.Backends.get("cpu");
            dev.ascendj.core.Ops ops = b.ops(b.device(0));
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("heads", heads);
            m.put("headDim", headDim);
            m.put("batch", batch);
            m.put("threads", dev.ascendj.cpu.CpuThreads.threads());
            for (int s : seqLens) {
                dev.ascendj.bench.AttentionMemory.Result r =
                        dev.ascendj.bench.AttentionMemory.measure(ops, batch, s, heads, heads, headDim);
                m.put("S" + s + ".tensorBytes", r.tensorBytes());
                m.put("S" + s + ".scratchBytes", r.scratchBytes());
                m.put("S" + s + ".fullScoreBytes", r.fullScoreBytes());
            }
            return print(spec, new BenchResult("attention memory (forward + backward)", m), json);
        }
    }

    @Command(name = "executor", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Tokens/s of whole training steps on the single-device trainer and on the parallel executor"
                    + " (virtual CPU devices) for each shape, beside the planner's predicted step time for that exact"
                    + " layout on the cpu profile, and the executor's overhead (dp2 against one device).",
                "Every shape trains the same model from the same weights on the same packed examples and global batch."})
    static final class Executor implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--model", defaultValue = "llama2-15m",
                description = "Preset or config.json (default ${DEFAULT-VALUE}).")
        String model;
        @Option(names = "--tokenizer", defaultValue = "examples/tokenizer/tokenizer.json",
                description = "tokenizer.json (default ${DEFAULT-VALUE}).")
        Path tokenizer;
        @Option(names = "--data", defaultValue = "examples/data/kg-train.jsonl",
                description = "Instruction examples, JSON Lines, packed into rows (default ${DEFAULT-VALUE}).")
        Path data;
        @Option(names = "--shapes", defaultValue = ExecutorShape.DEFAULT_SHAPES,
                description = "Comma-separated: 1 (single-device trainer) or degrees such as dp2, tp2, pp2, dp4-tp2-pp4"
                        + " (dp1: the executor on one rank). Default ${DEFAULT-VALUE}.")
        String shapes;
        @Option(names = "--seq-len", defaultValue = "128", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
        int seq;
        @Option(names = "--global-batch", defaultValue = "16",
                description = "Sequences per step, every shape (default ${DEFAULT-VALUE}).")
        int globalBatch;
        @Option(names = "--micro-batches", defaultValue = "4",
                description = "Micro-batches per replica of shapes with pp > 1; others take one (default ${DEFAULT-VALUE}).")
        int microBatches;
        @Option(names = "--device-threads", split = ",", paramLabel = "N",
                description = "Kernel threads of the single-device runs, one run each (default: all cores, then 1).")
        List<Integer> deviceThreads;
        @Option(names = "--rank-threads", split = ",", defaultValue = "1", paramLabel = "N",
                description = "Kernel threads per rank of the parallel runs, one run each (default ${DEFAULT-VALUE}).")
        List<Integer> rankThreads;
        @Option(names = "--warmup", description = "Untimed steps first (default 2; with --processes 10, for every run,"
                + " since each child JVM compiles the hot code itself and the figure is meant for the steady state).")
        Integer warmup;
        @Option(names = "--steps", defaultValue = "3",
                description = "Timed steps; the median is reported (default ${DEFAULT-VALUE}).")
        int steps;
        @Option(names = "--lr", defaultValue = "1e-4", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
        double lr;
        @Option(names = "--seed", defaultValue = "42", description = "Initialisation, data and dropout seed (default"
                + " ${DEFAULT-VALUE}).")
        long seed;
        @Option(names = "--processes", defaultValue = "1",
                description = "Also run each parallel shape as this many processes (nodes, one contiguous block of ranks"
                        + " each) on this machine, next to its run in one process (default ${DEFAULT-VALUE}: one only).")
        int processes;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            int cores = Runtime.getRuntime().availableProcessors();
            List<Integer> single = deviceThreads != null ? deviceThreads
                    : cores > 1 ? List.of(cores, 1) : List.of(1);
            ExecutorBench.Config cfg = new ExecutorBench.Config(model, dev.ascendj.model.LlamaConfigs.resolve(model),
                    tokenizer, data, seq, globalBatch, microBatches, ExecutorShape.parseList(shapes), single,
                    rankThreads, warmup != null ? warmup : ExecutorBench.Config.defaultWarmup(processes), steps, lr, seed,
                    processes);
            ExecutorBench.Result r = new ExecutorBench(cfg).run();
            if (json) {
                return print(spec, ExecutorReport.figures(r), true);
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(ExecutorReport.table(r));
            out.flush();
            return 0;
        }
    }
}
