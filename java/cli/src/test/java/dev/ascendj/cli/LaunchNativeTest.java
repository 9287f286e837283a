package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.CommandRun;
import dev.ascendj.train.report.TrainLog;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ascendj launch --engine native}: the per-server scripts, run for real with bash on this
 * machine (two "servers" on loopback, a shared job directory), start one {@code finetune} JVM per
 * server that find each other through the environment the scripts set, and train the plan as one
 * process would.
 */
class LaunchNativeTest {

    @Test
    void theServerScriptsRunTheNativeEngineOneJvmPerServer(@TempDir Path dir) throws Exception {
        FinetuneNodesTest.tinyModelAndPlanIn(dir);
        Path inventory = dir.resolve("cluster.yaml");
        Files.writeString(inventory, "hardware: ascend-910a\nservers:\n"
                + "  - host: 127.0.0.1\n    devices:\n      - {id: 0, ip: 192.168.100.1}\n      - {id: 1, ip: 192.168.101.1}\n"
                + "  - host: localhost\n    devices:\n      - {id: 0, ip: 192.168.100.2}\n      - {id: 1, ip: 192.168.101.2}\n");
        Path plan = dir.resolve("plan.json");
        CommandRun p = PlanCommandTest.plan("--cluster", inventory.toString(), "--model", "llama2-15m", "--method",
                "full", "--seq-len", "256", "--global-batch", "8", "--dp", "2", "--tp", "1", "--pp", "2",
                "--micro-batch-size", "1", "--micro-batches", "4", "--recompute", "full", "--optimizer-shard", "true",
                "--sequence-parallel", "false", "--save", plan.toString());
        assertEquals(0, p.code(), p.out() + p.err());
        // The servers' "java -jar ascendj.jar" is this test's classpath (the jar is built after the tests).
        Path javaHere = dir.resolve("java-here");
        Files.writeString(javaHere, "#!/usr/bin/env bash\nshift 2\nexec " + ProcessHandle.current().info().command().orElse("java")
                + " -Xmx1g -cp '" + System.getProperty("java.class.path") + "' " + Main.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(javaHere, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path job = dir.resolve("job");
        Path scripts = dir.resolve("launch");
        List<String> finetune = List.of("--model", FinetuneNodesTest.model.toString(), "--data",
                FinetuneNodesTest.DATA.toString(), "--method", "full", "--seq-len", "32", "--steps", "3", "--lr", "3e-3",
                "--preview", "0", "--node-timeout", "60", "--out", job.resolve("runs/native").toString());
        List<String> args = new ArrayList<>(List.of("launch", "--engine", "native", "--inventory", inventory.toString(),
                "--plan", plan.toString(), "--workdir", job.toString(), "--java", javaHere.toString(), "--coordinator-port",
                Integer.toString(port), "--dry-run", "--out", scripts.toString(), "--"));
        args.addAll(finetune);
        CommandRun launch = Cli.run(args);
        assertEquals(0, launch.code(), launch.out() + launch.err());
        String node1 = Files.readString(scripts.resolve("node1_localhost.sh"));
        assertTrue(node1.contains("export ASCENDJ_NODE_RANK='1'") && node1.contains("export ASCENDJ_NODES='2'")
                && node1.contains("export ASCENDJ_COORDINATOR='127.0.0.1:" + port + "'"), node1);

        List<Process> servers = new ArrayList<>();
        try {
            for (String s : List.of("node0_127.0.0.1.sh", "node1_localhost.sh")) {
                servers.add(new ProcessBuilder("bash", scripts.resolve(s).toString()).redirectErrorStream(true)
                        .redirectOutput(dir.resolve(s + ".out").toFile()).start());
            }
            for (Process s : servers) {
                assertTrue(s.waitFor(240, TimeUnit.SECONDS), "a server script did not finish");
            }
            for (int k = 0; k < 2; k++) {
                assertEquals(0, servers.get(k).exitValue(), Files.readString(job.resolve("output/node_" + k + ".log")));
            }
        } finally {
            for (Process s : servers) {
                s.destroyForcibly();
            }
        }
        assertTrue(Files.readString(job.resolve("output/node_1.log")).contains("node 1 of 2 runs ranks 2-3"));
        // The same plan and arguments in one process give the same training.
        Path one = dir.resolve("one");
        List<String> single = new ArrayList<>(List.of("finetune", "--plan", plan.toString()));
        single.addAll(finetune.subList(0, finetune.size() - 4));
        single.addAll(List.of("--out", one.toString()));
        CommandRun r = Cli.run(single);
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(TrainLog.read(one.resolve(TrainLog.FILE)).stream().map(TrainLog.Entry::loss).toList(),
                TrainLog.read(job.resolve("runs/native").resolve(TrainLog.FILE)).stream().map(TrainLog.Entry::loss).toList());
        assertArrayEquals(Files.readAllBytes(one.resolve("model/model.safetensors")),
                Files.readAllBytes(job.resolve("runs/native/model/model.safetensors")));
    }
}
