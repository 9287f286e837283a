package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LaunchScriptsTest {

    @TempDir
    Path dir;

    private Inventory inventory(int servers) {
        return Inventory.read(TestPlans.write(dir, "c.yaml", TestPlans.inventoryYaml(servers, 8)));
    }

    private static String config(Plan plan) {
        return MindFormersConfig.generate(plan, new MindFormersConfig.Options("llama2-7b", "/data/alpaca/mindrecord"));
    }

    private static final LaunchScripts.Options OPTS = LaunchScripts.Options.defaults("/data/job1", "/opt/mindformers");

    @Test
    void scriptsMatchGoldenFiles() {
        Plan plan = TestPlans.twoByEight();
        Map<String, String> rt = LaunchScripts.generate(inventory(2), plan, config(plan), LaunchScripts.Launcher.RANKTABLE, OPTS);
        assertEquals(List.of("node0_10.0.0.11.sh", "node1_10.0.0.12.sh"), List.copyOf(rt.keySet()));
        TestPlans.assertGolden("ranktable_node1_10.0.0.12.sh", rt.get("node1_10.0.0.12.sh"));
        Map<String, String> ms = LaunchScripts.generate(inventory(2), plan, config(plan), LaunchScripts.Launcher.MSRUN, OPTS);
        TestPlans.assertGolden("msrun_node1_10.0.0.12.sh", ms.get("node1_10.0.0.12.sh"));
    }

    @Test
    void scriptsAreValidBash() throws Exception {
        Plan plan = TestPlans.twoByEight();
        for (LaunchScripts.Launcher l : LaunchScripts.Launcher.values()) {
            for (Map.Entry<String, String> e : LaunchScripts.generate(inventory(2), plan, config(plan), l, OPTS).entrySet()) {
                Path f = TestPlans.write(dir, l + "/" + e.getKey(), e.getValue());
                Process p = new ProcessBuilder("bash", "-n", f.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, p.waitFor(), l + " " + e.getKey() + ": " + out);
            }
        }
    }

    @Test
    void rankTableScriptsStartEveryRankOfThePlanOnItsDevice() throws IOException {
        Plan lora = Plan.read(MindFormersConfigTest.CANONICAL.resolve("llama2_7b_lora_4x8_910a.plan.json"));
        Inventory inv = inventory(4);
        Map<String, String> scripts = LaunchScripts.generate(inv, lora, config(lora), LaunchScripts.Launcher.RANKTABLE, OPTS);
        Pattern start = Pattern.compile("^start_rank (\\d) (\\d+)$", Pattern.MULTILINE);
        List<String> seen = new ArrayList<>();
        int s = 0;
        for (String script : scripts.values()) {
            Matcher m = start.matcher(script);
            while (m.find()) {
                seen.add(s + "/" + m.group(1) + "=" + m.group(2));
            }
            assertTrue(script.contains("export RANK_SIZE=32\n"));
            assertTrue(script.contains("export HCCL_CONNECT_TIMEOUT=600\n") && script.contains("export HCCL_EXEC_TIMEOUT=1800\n"));
            s++;
        }
        List<String> expected = new ArrayList<>();
        for (RankAssignment r : lora.ranks()) {
            expected.add(r.server() + "/" + r.deviceId() + "=" + r.rank());
        }
        assertEquals(32, seen.size());
        assertEquals(expected.stream().sorted().toList(), seen.stream().sorted().toList());
    }

    @Test
    void msrunRefusesARankMapItCannotFollow() throws IOException {
        Plan lora = Plan.read(MindFormersConfigTest.CANONICAL.resolve("llama2_7b_lora_4x8_910a.plan.json"));
        LaunchException e = assertThrows(LaunchException.class,
                () -> LaunchScripts.generate(inventory(4), lora, config(lora), LaunchScripts.Launcher.MSRUN, OPTS));
        assertTrue(e.getMessage().contains("replica-major placement) puts rank 16 there; use --launcher ranktable"), e.getMessage());
        Plan full = Plan.read(MindFormersConfigTest.CANONICAL.resolve("llama2_7b_full_4x8_910a.plan.json"));
        String node3 = LaunchScripts.generate(inventory(4), full, config(full), LaunchScripts.Launcher.MSRUN, OPTS).get("node3_10.0.0.14.sh");
        assertTrue(node3.contains("msrun --worker_num=32 --local_worker_num=8 --master_addr='10.0.0.11' --master_port=8118 --node_rank=3 "
                + "--log_dir=output/msrun_log --join=True --cluster_time_out=600"), node3);
        assertTrue(node3.contains("export ASCEND_RT_VISIBLE_DEVICES=0,1,2,3,4,5,6,7\n"), node3);
    }

    /** Whatever an option holds, bash reads back exactly that string from its quoted form. */
    @ParameterizedTest
    @ValueSource(strings = {"/data/job 1", "/data/it's", "$(touch /tmp/ascendj-pwned)", "`id`", "a;b|c&d>e<f", "\\'\\\"", "*?[x]{a,b}~", "'"})
    void quotingSurvivesBash(String value) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "printf %s " + Shell.quote(value, "v")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        assertEquals(value, out);
    }

    @Test
    void controlCharactersAndBadOptionsAreRefused() {
        assertThrows(LaunchException.class, () -> LaunchScripts.Options.defaults("/data/job\n rm -rf /", "/opt/mf"));
        assertThrows(LaunchException.class, () -> LaunchScripts.Options.defaults("/data/job", "/opt/mf\u0000"));
        assertThrows(LaunchException.class, () -> new LaunchScripts.Options("/d", "/m", "/c", "python; id", 8118, 600, 600, 1800));
        assertThrows(LaunchException.class, () -> new LaunchScripts.Options("/d", "/m", "/c", "python", 80, 600, 600, 1800));
        Plan plan = TestPlans.twoByEight();
        LaunchException e = assertThrows(LaunchException.class, () -> LaunchScripts.generate(inventory(2), plan,
                config(plan) + LaunchScripts.EOF_MARK + "\nrm -rf /\n", LaunchScripts.Launcher.RANKTABLE, OPTS));
        assertTrue(e.getMessage().contains("ends an embedded file"), e.getMessage());
    }

    @Test
    void sshCommandIsAnArgumentArrayWithBatchMode() {
        Inventory inv = Inventory.read(TestPlans.write(dir, "u.yaml", "user: hpc\nhardware: ascend-910a\nservers:\n"
                + "  - host: node-1.lab\n    sshPort: 2222\n    devices: [{id: 0, ip: 192.168.100.101}]\n"));
        assertEquals(List.of("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=30", "-p", "2222",
                "-l", "hpc", "--", "node-1.lab", "bash -s"), new SshRunner("ssh", inv.user()).command(inv.servers().get(0)));
        assertThrows(LaunchException.class, () -> new SshRunner("ssh -oProxyCommand=x", null));
        assertThrows(LaunchException.class, () -> new SshRunner("ssh", "root;id"));
        assertThrows(LaunchException.class, () -> new SshRunner("ssh", null).command(new Inventory.Server("-oProxyCommand=id", 0, List.of())));
    }

    /** A stand-in for ssh (never the network): prints its host argument and the script's line count; fails for one host. */
    private Path fakeSsh() throws IOException {
        Path f = dir.resolve("fake-ssh");
        Files.writeString(f, "#!/bin/sh\nfor a; do host=\"$prev\"; prev=\"$a\"; done\nlines=$(wc -l | tr -d ' ')\n"
                + "echo \"host=$host lines=$lines\"\n[ \"$host\" = 10.0.0.12 ] && exit 3\nexit 0\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
        return f;
    }

    @Test
    void runnerStreamsOutputAndReportsStatusPerHost() throws IOException {
        Inventory inv = inventory(2);
        StringWriter sw = new StringWriter();
        Map<String, Integer> status = new SshRunner(fakeSsh().toString(), null).run(inv, List.of("a\nb\n", "c\n"), new PrintWriter(sw));
        assertEquals(Map.of("10.0.0.11", 0, "10.0.0.12", 3), status);
        assertTrue(sw.toString().contains("[10.0.0.11] host=10.0.0.11 lines=2"), sw.toString());
        assertTrue(sw.toString().contains("[10.0.0.12] host=10.0.0.12 lines=1"), sw.toString());
    }

    @Test
    void launchCommandDryRunAndRun() throws IOException {
        Plan plan = TestPlans.twoByEight();
        Path planFile = dir.resolve("plan.json");
        plan.write(planFile);
        Path cfg = TestPlans.write(dir, "run.yaml", config(plan));
        Path inv = TestPlans.write(dir, "cluster.yaml", TestPlans.inventoryYaml(2, 8));
        Path out = dir.resolve("scripts");
        var r = CommandRunner.run(new LaunchCommand(), "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                cfg.toString(), "--dry-run", "--out", out.toString(), "--ssh", fakeSsh().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(out.resolve("node0_10.0.0.11.sh")) && Files.exists(out.resolve("node1_10.0.0.12.sh")));
        assertFalse(r.out().contains("host="), "dry run must not run anything: " + r.out());
        r = CommandRunner.run(new LaunchCommand(), "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                cfg.toString(), "--out", out.toString(), "--ssh", fakeSsh().toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("10.0.0.12: failed with status 3"), r.out());
        assertTrue(r.out().contains("10.0.0.11: finished"), r.out());
    }

    @Test
    void hostileInventoryIsRejectedBeforeAnythingRuns() throws IOException {
        Plan plan = TestPlans.twoByEight();
        Path planFile = dir.resolve("plan.json");
        plan.write(planFile);
        Path cfg = TestPlans.write(dir, "run.yaml", config(plan));
        Path marker = dir.resolve("ran");
        Path ssh = dir.resolve("marking-ssh");
        Files.writeString(ssh, "#!/bin/sh\ntouch '" + marker + "'\n");
        Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwx------"));
        for (String host : List.of("10.0.0.12;touch /tmp/x", "$(reboot)", "-oProxyCommand=sh", "10.0.0.300")) {
            Path inv = TestPlans.write(dir, "cluster.yaml", TestPlans.inventoryYaml(2, 8).replace("10.0.0.12", host.replace("\"", "")));
            var r = CommandRunner.run(new LaunchCommand(), "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
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
        Path cfg = TestPlans.write(dir, "run.yaml", config(plan).replace("data_parallel: 4", "data_parallel: 2"));
        Path inv = TestPlans.write(dir, "cluster.yaml", TestPlans.inventoryYaml(2, 8));
        var r = CommandRunner.run(new LaunchCommand(), "--inventory", inv.toString(), "--plan", planFile.toString(), "--config",
                cfg.toString(), "--dry-run", "--out", dir.resolve("s").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("data_parallel 2 x model_parallel 1 x pipeline_stage 4 = 8, but the job has 16 devices"), r.err());
        assertFalse(Files.exists(dir.resolve("s")));
    }
}
