package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import dev.ascendj.testkit.CommandRun;
import dev.ascendj.train.report.TrainLog;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native engine across real processes on this machine (loopback only): one plan run by
 * several JVMs gives the bits of one JVM; a killed node fails the others naming it and the run
 * resumes to the weights of an uninterrupted one; checkpoints of one node count re-shard onto
 * another; bad node options and mismatched nodes are refused clearly.
 */
class FinetuneNodesTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
    private static final Path TOKENIZER = ROOT.resolve("examples/tokenizer/tokenizer.json");
    static final Path DATA = ROOT.resolve("examples/data/kg-train.jsonl");

    @TempDir
    static Path shared;
    static Path model;
    /** The reference job's plan: LLaMA2-7B on 4 x 8 910A as dp8 pp4 (the README's rehearsal). */
    static Path rehearsal;

    @BeforeAll
    static void tinyModelAndPlan() throws Exception {
        tinyModelAndPlanIn(shared);
    }

    /** The tiny model (and the rehearsal plan) in {@code dir}, for this and other tests. */
    static void tinyModelAndPlanIn(Path dir) throws Exception {
        shared = dir;
        model = shared.resolve("tiny");
        // Four layers (one per stage of the rehearsal), the example tokenizer's vocabulary.
        LlamaConfig c = LlamaConfig.builder().layers(4).kvHeads(2).vocab(1594).build();
        try (LlamaModel m = LlamaModel.initialize(c, new CpuBackend(1).device(0), 11, null)) {
            ModelFiles.save(m, model, DType.FP32);
        }
        Files.copy(TOKENIZER, model.resolve("tokenizer.json"));
        rehearsal = plan("4x8-910a", "llama2-7b", 2048, 512, "8", "1", "4", "1", "64");
        assertTrue(Files.readString(rehearsal).contains("\"dp\" : 8"), Files.readString(rehearsal));
    }

    /** A plan file for fixed degrees (the optimizer sharded when there is data parallelism, full recomputation). */
    static Path plan(String cluster, String modelName, int seqLen, int globalBatch, String dp, String tp, String pp,
                     String mbs, String mb) {
        Path file = shared.resolve("plan-" + cluster + "-" + dp + tp + pp + ".json");
        CommandRun p = PlanCommandTest.plan("--cluster", cluster, "--model", modelName, "--method", "full",
                "--seq-len", Integer.toString(seqLen), "--global-batch", Integer.toString(globalBatch), "--dp", dp,
                "--tp", tp, "--pp", pp, "--micro-batch-size", mbs, "--micro-batches", mb, "--recompute", "full",
                "--optimizer-shard", Boolean.toString(!dp.equals("1")), "--sequence-parallel", "false",
                "--save", file.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        return file;
    }

    static List<String> job(Path plan, Path out, int steps) {
        return new ArrayList<>(List.of("finetune", "--model", model.toString(), "--data", DATA.toString(), "--method",
                "full", "--seq-len", "32", "--steps", Integer.toString(steps), "--lr", "3e-3", "--preview", "0",
                "--plan", plan.toString(), "--micro-batches", "4", "--micro-batch-size", "1", "--checkpoint-every", "2",
                "--out", out.toString()));
    }

    private static List<String> with(List<String> args, String... more) {
        List<String> l = new ArrayList<>(args);
        l.addAll(List.of(more));
        return l;
    }

    @Test
    void theRehearsalOnFourProcessesGivesTheBitsOfOneProcess() throws Exception {
        Path one = shared.resolve("one");
        Path four = shared.resolve("four");
        CommandRun a = Cli.run(job(rehearsal, one, 3));
        assertEquals(0, a.code(), a.out() + a.err());
        CommandRun b = Cli.run(with(job(rehearsal, four, 3), "--processes", "4"));
        assertEquals(0, b.code(), b.out() + b.err());
        assertTrue(b.out().contains("[node 3] ") && b.out().contains("node 3 of 4 runs ranks 24-31"), b.out());
        assertTrue(b.out().contains("3 steps (1..3 of 3) on 32 virtual devices (4 nodes)"), b.out());
        List<TrainLog.Entry> l1 = TrainLog.read(one.resolve(TrainLog.FILE));
        List<TrainLog.Entry> l4 = TrainLog.read(four.resolve(TrainLog.FILE));
        assertEquals(l1.stream().map(TrainLog.Entry::loss).toList(), l4.stream().map(TrainLog.Entry::loss).toList());
        assertEquals(l1.stream().map(TrainLog.Entry::gradNorm).toList(),
                l4.stream().map(TrainLog.Entry::gradNorm).toList());
        assertArrayEquals(Files.readAllBytes(one.resolve("model/model.safetensors")),
                Files.readAllBytes(four.resolve("model/model.safetensors")), "the exported models are identical");
        // And one device without a plan (the same 32 sequences a step) agrees within FP32 reduction noise.
        Path device = shared.resolve("device");
        List<String> plain = job(rehearsal, device, 3);
        int at = plain.indexOf("--plan");
        plain.subList(at, at + 6).clear(); // --plan P --micro-batches 4 --micro-batch-size 1
        plain.addAll(List.of("--batch", "32"));
        CommandRun c = Cli.run(plain);
        assertEquals(0, c.code(), c.out() + c.err());
        List<TrainLog.Entry> l0 = TrainLog.read(device.resolve(TrainLog.FILE));
        for (int i = 0; i < 3; i++) {
            assertEquals(l0.get(i).loss(), l4.get(i).loss(), 1e-5 * l0.get(i).loss(), "step " + (i + 1) + " on one device");
        }

        // Re-shard the 4-process run's step-2 checkpoint onto 2 processes (2 servers) and onto 1 device.
        Path two = plan("2x4-cpu", "llama2-15m", 256, 32, "2", "2", "2", "1", "16");
        Path single = plan("1x1-cpu", "llama2-15m", 256, 32, "1", "1", "1", "1", "32");
        double want = l4.get(2).loss();
        for (Path other : List.of(two, single)) {
            Path copy = shared.resolve("reshard-" + other.getFileName());
            copyTree(four, copy);
            deleteTree(copy.resolve("checkpoints/step-00000003"));
            List<String> args = job(other, copy, 3);
            args.set(args.indexOf("--micro-batches") + 1, other == two ? "16" : "32"); // 32 sequences a step, as before
            args.add("--resume");
            if (other == two) {
                args.addAll(List.of("--processes", "2"));
            }
            CommandRun r = Cli.run(args);
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("re-sharding"), r.out());
            double got = TrainLog.read(copy.resolve(TrainLog.FILE)).get(2).loss();
            assertEquals(want, got, 1e-5 * Math.abs(want), "step 3 after re-sharding onto " + other.getFileName());
        }
    }

    @Test
    void tensorParallelGroupsAndPipelineBoundariesThatCrossProcessesGiveTheBitsOfOneProcess() throws Exception {
        // dp2 tp2 pp2 on 2 servers of 4, with a rank map that puts every tensor-parallel pair and every
        // pipeline neighbour pair on different servers (node 0 runs server 0, node 1 server 1).
        Path planFile = plan("2x4-cpu", "llama2-15m", 256, 32, "2", "2", "2", "1", "16");
        Plan plan = Plan.read(planFile);
        int[] server = {0, 1, 0, 1, 1, 0, 1, 0};
        int[] next = new int[2];
        List<RankAssignment> ranks = new ArrayList<>();
        for (RankAssignment r : plan.ranks()) {
            int s = server[r.rank()];
            ranks.add(new RankAssignment(r.rank(), r.stage(), r.dpIndex(), r.tpIndex(), s,
                    plan.cluster().servers().get(s).host(), next[s]++, null));
        }
        Plan crossing = plan.withRanks(ranks);
        Path file = shared.resolve("crossing.json");
        crossing.write(file);
        Path one = shared.resolve("crossing-one");
        Path two = shared.resolve("crossing-two");
        CommandRun a = Cli.run(job(file, one, 3));
        assertEquals(0, a.code(), a.out() + a.err());
        CommandRun b = Cli.run(with(job(file, two, 3), "--processes", "2"));
        assertEquals(0, b.code(), b.out() + b.err());
        assertTrue(b.out().contains("node 1 of 2 runs ranks 1, 3-4, 6"), b.out());
        assertEquals(TrainLog.read(one.resolve(TrainLog.FILE)).stream().map(TrainLog.Entry::loss).toList(),
                TrainLog.read(two.resolve(TrainLog.FILE)).stream().map(TrainLog.Entry::loss).toList());
        assertArrayEquals(Files.readAllBytes(one.resolve("model/model.safetensors")),
                Files.readAllBytes(two.resolve("model/model.safetensors")));
    }

    @Test
    void aKilledNodeFailsTheOtherNamingItAndTheRunResumesToTheSameWeights() throws Exception {
        Path plan2 = plan("2x2-cpu", "llama2-15m", 256, 32, "2", "1", "2", "1", "16");
        // Long enough that node 1 is killed well before the end, whenever the kill lands.
        int steps = 120;
        Path straight = shared.resolve("straight");
        CommandRun s = Cli.run(job(plan2, straight, steps));
        assertEquals(0, s.code(), s.out() + s.err());

        Path out = shared.resolve("killed");
        List<String> args = with(job(plan2, out, steps), "--node-timeout", "30");
        try (Node node0 = Node.start(with(args, "--nodes", "2", "--node-rank", "0", "--coordinator", "127.0.0.1:0"))) {
            String coordinator = node0.awaitCoordinator();
            try (Node node1 = Node.start(with(args, "--nodes", "2", "--node-rank", "1", "--coordinator", coordinator))) {
                // Kill node 1 once the step-4 checkpoint is complete (the run goes on meanwhile).
                long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
                while (!Files.isRegularFile(out.resolve("checkpoints/step-00000004/manifest.json"))) {
                    if (System.nanoTime() > deadline || !node0.alive() || !node1.alive()) {
                        node0.waitFor(Duration.ofSeconds(5));
                        node1.waitFor(Duration.ofSeconds(5));
                        throw new AssertionError("the nodes did not reach step 4:\n" + node0.output() + "\n---\n"
                                + node1.output());
                    }
                    Thread.sleep(50);
                }
                node1.kill();
                assertTrue(node0.waitFor(Duration.ofSeconds(60)), "node 0 stopped within the timeout");
                assertNotEquals(0, node0.exitCode(), node0.output());
                assertTrue(node0.output().contains("lost node 1 (host 127.0.0.1, ranks 2-3)"), node0.output());
            }
        }
        assertTrue(Files.notExists(out.resolve("checkpoints/step-" + String.format("%08d", steps))), "killed before the end");
        CommandRun resumed = Cli.run(with(job(plan2, out, steps), "--resume", "--processes", "2"));
        assertEquals(0, resumed.code(), resumed.out() + resumed.err());
        assertTrue(resumed.out().contains("resuming from"), resumed.out());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model/model.safetensors")),
                Files.readAllBytes(out.resolve("model/model.safetensors")), "resumed = uninterrupted, bit for bit");
    }

    @Test
    void nodesThatDisagreeOrCannotMeetAreRefusedClearly() throws Exception {
        Path plan2 = plan("2x2-cpu", "llama2-15m", 256, 32, "2", "1", "2", "1", "16");
        Path other = plan("2x2-cpu", "llama2-15m", 256, 32, "2", "2", "1", "1", "16");
        Path out = shared.resolve("refused");
        List<String> args = with(job(plan2, out, 2), "--node-timeout", "20");

        CommandRun range = Cli.run(with(args, "--nodes", "2", "--node-rank", "2", "--coordinator", "127.0.0.1:1"));
        assertEquals(2, range.code());
        assertTrue(range.err().contains("--node-rank 2 is outside 0..1"), range.err());
        CommandRun noPlan = Cli.run(List.of("finetune", "--model", "llama2-15m", "--data", DATA.toString(),
                "--steps", "1", "--out", out.toString(), "--processes", "2"));
        assertEquals(2, noPlan.code());
        assertTrue(noPlan.err().contains("--processes and --nodes run a plan's partition"), noPlan.err());

        // Node 1 runs another plan: both fail, naming the difference.
        try (Node node0 = Node.start(with(args, "--nodes", "2", "--node-rank", "0", "--coordinator", "127.0.0.1:0"))) {
            String coordinator = node0.awaitCoordinator();
            List<String> wrong = with(job(other, out, 2), "--node-timeout", "20", "--nodes", "2", "--node-rank", "1",
                    "--coordinator", coordinator);
            try (Node node1 = Node.start(wrong)) {
                assertTrue(node1.waitFor(Duration.ofSeconds(60)) && node0.waitFor(Duration.ofSeconds(60)));
                for (Node n : List.of(node0, node1)) {
                    assertEquals(1, n.exitCode(), n.output());
                    assertTrue(n.output().contains("the nodes do not run the same job: node 1 differs from node 0 in plan"),
                            n.output());
                }
            }
        }

        // A busy coordinator port, and a coordinator nobody runs.
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CommandRun r = Cli.run(with(args, "--nodes", "2", "--node-rank", "0", "--coordinator",
                    "127.0.0.1:" + busy.getLocalPort()));
            assertEquals(2, r.code()); // an unusable --coordinator: bad input
            assertTrue(r.err().contains("the coordinator cannot listen on 127.0.0.1:" + busy.getLocalPort()), r.err());
        }
        int free;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            free = s.getLocalPort();
        }
        List<String> lonely = with(job(plan2, out, 2), "--node-timeout", "2", "--nodes", "2", "--node-rank", "1",
                "--coordinator", "127.0.0.1:" + free);
        CommandRun r = Cli.run(lonely);
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no coordinator answered at 127.0.0.1:" + free), r.err());
    }

    /** One node of a job as a child JVM of this test, its output collected; killed when closed. */
    static final class Node implements AutoCloseable {
        private static final Pattern ANNOUNCED = Pattern.compile("coordinator listening on (\\S+)");
        private final Process process;
        private final StringBuffer output = new StringBuffer();
        private final Thread reader;

        private Node(Process p) {
            this.process = p;
            this.reader = new Thread(() -> {
                try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        output.append(line).append('\n');
                    }
                } catch (IOException e) {
                    output.append("(output ended: ").append(e.getMessage()).append(")\n");
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        static Node start(List<String> args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(args);
            return new Node(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }

        /** The coordinator address node 0 announces. */
        String awaitCoordinator() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                Matcher m = ANNOUNCED.matcher(output);
                if (m.find()) {
                    return m.group(1);
                }
                assertTrue(process.isAlive(), "node 0 exited: " + output);
                Thread.sleep(20);
            }
            throw new AssertionError("node 0 announced no coordinator: " + output);
        }

        boolean alive() {
            return process.isAlive();
        }

        void kill() {
            process.destroyForcibly(); // SIGKILL: no goodbye, no shutdown hooks
        }

        boolean waitFor(Duration d) throws InterruptedException {
            boolean done = process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
            reader.join(5000);
            return done;
        }

        int exitCode() {
            return process.exitValue();
        }

        String output() {
            return output.toString();
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
