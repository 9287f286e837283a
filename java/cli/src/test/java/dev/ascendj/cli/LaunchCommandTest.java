package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.launch.MindFormersConfig;
import dev.ascendj.plan.Plan;
import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import dev.ascendj.testkit.TestPlans;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ascendj launch} of a MindFormers job: dry run, a run through a stand-in ssh, and what it refuses. */
class LaunchCommandTest {

    @TempDir
    Path dir;

    private static String config(Plan plan) {
        return MindFormersConfig.generate(plan, new MindFormersConfig.Options("llama2-7b", "/data/alpaca/mindrecord"));
    }

    @Test
    void launchCommandDryRunAndRun() throws IOException {
        Plan plan = TestPlans.twoByEight();
        Path planFile = dir.resolve("plan.json");
        plan.write(planFile);
        Path cfg = TestFiles.write(dir, "run.yaml", config(plan));
        Path inv = TestFiles.write(dir, "cluster.yaml", LabCluster.inventoryYaml(2, 8));
        Path out = dir.resolve("scripts");
        var r = Cli.run("launch", "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                cfg.toString(), "--dry-run", "--out", out.toString(), "--ssh", LabCluster.fakeSsh(dir).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(out.resolve("node0_10.0.0.11.sh")) && Files.exists(out.resolve("node1_10.0.0.12.sh")));
        assertFalse(r.out().contains("host="), "dry run must not run anything: " + r.out());
        r = Cli.run("launch", "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                cfg.toString(), "--out", out.toString(), "--ssh", LabCluster.fakeSsh(dir).toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("10.0.0.12: failed with status 3"), r.out());
        assertTrue(r.out().contains("10.0.0.11: finished"), r.out());
    }

    @Test
    void hostileInventoryIsRejectedBeforeAnythingRuns() throws IOException {
        Plan plan = TestPlans.twoByEight();
        Path planFile = dir.resolve("plan.json");
        plan.write(planFile);
        Path cfg = TestFiles.write(dir, "run.yaml", config(plan));
        Path marker = dir.resolve("ran");
        Path ssh = dir.resolve("marking-ssh");
        Files.writeString(ssh, "#!/bin/sh\ntouch '" + marker + "'\n");
        Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwx------"));
        for (String host : List.of("10.0.0.12;touch /tmp/x", "$(reboot)", "-oProxyCommand=sh", "10.0.0.300")) {
            Path inv = TestFiles.write(dir, "cluster.yaml", LabCluster.inventoryYaml(2, 8).replace("10.0.0.12", host.replace("\"", "")));
            var r = Cli.run("launch", "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                    cfg.toString(), "--out", dir.resolve("s").toString(), "--ssh", ssh.toString());
            assertEquals(2, r.code(), host + ": " + r.out() + r.err());
            assertTrue(r.err().contains("servers[1].host"), r.err());
        }
        assertFalse(Files.exists(marker), "ssh was started");
        assertFalse(Files.exists(dir.resolve("s")), "scripts were written");
    }

    @Test
    void aConfigThatFailsTheChecksIsNotLaunched() throws IOException {
        Plan plan = TestPlans.twoByEight();
        Path planFile = dir.resolve("plan.json");
        plan.write(planFile);
        Path cfg = TestFiles.write(dir, "run.yaml", config(plan).replace("data_parallel: 4", "data_parallel: 2"));
        Path inv = TestFiles.write(dir, "cluster.yaml", LabCluster.inventoryYaml(2, 8));
        var r = Cli.run("launch", "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                cfg.toString(), "--dry-run", "--out", dir.resolve("s").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("data_parallel 2 x model_parallel 1 x pipeline_stage 4 = 8, but the job has 16 devices"), r.err());
        assertFalse(Files.exists(dir.resolve("s")));
    }
}
