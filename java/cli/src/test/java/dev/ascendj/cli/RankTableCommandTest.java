package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import dev.ascendj.testkit.TestPlans;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RankTableCommandTest {

    @TempDir
    Path dir;

    @Test
    void writesTheTableFromAnInventory() throws Exception {
        Path inv = TestFiles.write(dir, "cluster.yaml", LabCluster.inventoryYaml(2, 8));
        Path plan = dir.resolve("plan.json");
        TestPlans.twoByEight().write(plan);
        Path out = dir.resolve("hccl.json");
        var r = Cli.run("ranktable", "--inventory", inv.toString(), "--plan", plan.toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 servers, 16 ranks"), r.out());
        assertEquals(Files.readString(LaunchFixtures.GOLDEN.resolve("hccl_2s_16p.json")), Files.readString(out));
    }

    @Test
    void buildsTheSameTableFromHccnConfAndHccnToolOutputs() throws Exception {
        // Server 0 from a copy of /etc/hccn.conf, server 1 from eight hccn_tool outputs.
        StringBuilder conf = new StringBuilder();
        for (int d = 0; d < 8; d++) {
            conf.append("address_").append(d).append("=192.168.").append(100 + d % 4).append('.').append(101 + 20 * (d / 4)).append('\n')
                    .append("netmask_").append(d).append("=255.255.255.0\n");
            TestFiles.write(dir, "node1/hccn_tool_" + d + ".txt",
                    "ipaddr:192.168." + (100 + d % 4) + "." + (102 + 20 * (d / 4)) + "\nnetmask:255.255.255.0\n");
        }
        TestFiles.write(dir, "node0/hccn.conf", conf.toString());
        Path plan = dir.resolve("plan.json");
        TestPlans.twoByEight().write(plan);
        Path out = dir.resolve("t.json");
        var r = Cli.run("ranktable", "--hccn", "10.0.0.11=" + dir.resolve("node0/hccn.conf"),
                "--hccn", "10.0.0.12=" + dir.resolve("node1"), "--plan", plan.toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(LaunchFixtures.GOLDEN.resolve("hccl_2s_16p.json")), Files.readString(out));
    }

    @Test
    void mergesPerServerTables() throws Exception {
        Path a = TestFiles.write(dir, "hccl_8p_01234567_10.0.0.12.json", LabCluster.singleServerTable("10.0.0.12", 101));
        Path b = TestFiles.write(dir, "hccl_8p_01234567_10.0.0.11.json", LabCluster.singleServerTable("10.0.0.11", 102));
        Path out = dir.resolve("m.json");
        var r = Cli.run("ranktable", "--merge", a.toString(), b.toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(LaunchFixtures.GOLDEN.resolve("merged_2s_16p.json")), Files.readString(out));
    }

    @Test
    void invalidInputExitsWith2AndWritesNothing() {
        Path inv = TestFiles.write(dir, "cluster.yaml", LabCluster.inventoryYaml(2, 8).replace("192.168.100.102", "192.168.100.101"));
        Path plan = dir.resolve("plan.json");
        TestPlans.twoByEight().write(plan);
        Path out = dir.resolve("hccl.json");
        var r = Cli.run("ranktable", "--inventory", inv.toString(), "--plan", plan.toString(), "-o", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is already used by servers[0].devices[0].ip"), r.err());
        assertFalse(Files.exists(out));
    }
}
