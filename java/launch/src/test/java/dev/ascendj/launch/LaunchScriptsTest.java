package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import dev.ascendj.testkit.TestPlans;
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
        return Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(servers, 8)));
    }

    private static String config(Plan plan) {
        return MindFormersConfig.generate(plan, new MindFormersConfig.Options("llama2-7b", "/data/alpaca/mindrecord"));
    }

    private static final LaunchScripts.Options OPTS = LaunchScripts.Options.defaults("/data/job1", "/opt/mindformers");

    /** A 2x8 910B job, the hardware whose MindFormers releases have msrun. */
    private Inventory inventory910b() {
        return Inventory.read(TestFiles.write(dir, "b.yaml", LabCluster.inventoryYaml(2, 8).replace("ascend-910a", "ascend-910b")));
    }

    private static Plan plan910b() {
        return TestPlans.fixed(dev.ascendj.plan.ClusterSpec.parse("2x8-910b"), 4, 1, 4, 1, 16, dev.ascendj.plan.Recompute.SELECTIVE);
    }

    private static Compatibility.Stack mf(String version, String hw) {
        return Compatibility.builtIn().stackFor(hw, version);
    }

    @Test
    void scriptsMatchGoldenFiles() {
        Plan plan = TestPlans.twoByEight();
        Map<String, String> rt = LaunchScripts.generate(inventory(2), plan, config(plan), LaunchScripts.Launcher.RANKTABLE, OPTS);
        assertEquals(List.of("node0_10.0.0.11.sh", "node1_10.0.0.12.sh", "stop.sh"), List.copyOf(rt.keySet()));
        GoldenFiles.assertGolden("ranktable_node1_10.0.0.12.sh", rt.get("node1_10.0.0.12.sh"));
        Plan b = plan910b();
        Map<String, String> ms = LaunchScripts.generate(inventory910b(), b, config(b), LaunchScripts.Launcher.MSRUN, mf("1.3", "ascend-910b"), OPTS);
        GoldenFiles.assertGolden("msrun_node1_10.0.0.12.sh", ms.get("node1_10.0.0.12.sh"));
    }

    @Test
    void scriptsAreValidBash() throws Exception {
        Plan plan = TestPlans.twoByEight();
        Plan b = plan910b();
        List<Map<String, String>> all = List.of(
                LaunchScripts.generate(inventory(2), plan, config(plan), LaunchScripts.Launcher.RANKTABLE, OPTS),
                LaunchScripts.generate(inventory910b(), b, config(b), LaunchScripts.Launcher.MSRUN, mf("1.3", "ascend-910b"), OPTS),
                LaunchScripts.generate(inventory910b(), b, config(b), LaunchScripts.Launcher.MSRUN, mf("1.1", "ascend-910b"), OPTS));
        int k = 0;
        for (Map<String, String> scripts : all) {
            for (Map.Entry<String, String> e : scripts.entrySet()) {
                Path f = TestFiles.write(dir, (k) + "/" + e.getKey(), e.getValue());
                Process p = new ProcessBuilder("bash", "-n", f.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, p.waitFor(), e.getKey() + ": " + out);
            }
            k++;
        }
    }

    @Test
    void rankTableScriptsStartEveryRankOfThePlanOnItsDevice() throws IOException {
        Plan lora = Plan.read(MindFormersConfigTest.CANONICAL.resolve("llama2_7b_lora_4x8_910a.plan.json"));
        Inventory inv = inventory(4);
        Map<String, String> scripts = LaunchScripts.generate(inv, lora, config(lora), LaunchScripts.Launcher.RANKTABLE, OPTS);
        List<String> seen = new ArrayList<>();
        int s = 0;
        for (Map.Entry<String, String> e : scripts.entrySet()) {
            if (e.getKey().equals(LaunchScripts.STOP_SCRIPT)) {
                continue;
            }
            for (int[] dr : startedRanks(e.getValue())) {
                seen.add(s + "/" + dr[0] + "=" + dr[1]);
            }
            assertTrue(e.getValue().contains("export RANK_SIZE='32'\n"));
            s++;
        }
        List<String> expected = new ArrayList<>();
        for (RankAssignment r : lora.ranks()) {
            expected.add(r.server() + "/" + r.deviceId() + "=" + r.rank());
        }
        assertEquals(32, seen.size());
        assertEquals(expected.stream().sorted().toList(), seen.stream().sorted().toList());
    }

    private static final Pattern START = Pattern.compile("^start 'rank \\d+' \\S+ env DEVICE_ID='(\\d)' RANK_ID='(\\d+)' ", Pattern.MULTILINE);

    /** (device id, rank) of every rank a rank-table script starts. */
    static List<int[]> startedRanks(String script) {
        List<int[]> out = new ArrayList<>();
        Matcher m = START.matcher(script);
        while (m.find()) {
            out.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        }
        return out;
    }

    @Test
    void theLauncherComesFromTheMindFormersRelease() {
        Plan full = TestPlans.twoByEight();
        LaunchException e = assertThrows(LaunchException.class,
                () -> LaunchScripts.generate(inventory(2), full, config(full), LaunchScripts.Launcher.MSRUN, OPTS));
        assertTrue(e.getMessage().contains("--launcher msrun cannot work with MindFormers 1.0 / MindSpore 2.2 on ascend-910a: "
                + "scripts/msrun_launcher.sh first appears in MindFormers v1.1.0 and msrun needs MindSpore 2.3 or later"), e.getMessage());
        LaunchException hw = assertThrows(LaunchException.class, () -> mf("1.3", "ascend-910a"));
        assertTrue(hw.getMessage().contains("MindFormers 1.3 does not support ascend-910a"), hw.getMessage());
        Plan b = plan910b();
        String node1 = LaunchScripts.generate(inventory910b(), b, config(b), LaunchScripts.Launcher.MSRUN, mf("1.3", "ascend-910b"), OPTS)
                .get("node1_10.0.0.12.sh");
        assertTrue(node1.contains("msrun --worker_num=16 --local_worker_num=8 --master_addr='10.0.0.11' --master_port=8118 --node_rank=1 "
                + "--log_dir=output/msrun_log --join=True --cluster_time_out=600"), node1);
        assertTrue(node1.contains("export ASCEND_RT_VISIBLE_DEVICES='0,1,2,3,4,5,6,7'\n"), node1);
    }

    @Test
    void versionSpecificVariablesOnlyForTheReleasesThatReadThem() {
        Plan full = TestPlans.twoByEight();
        String v10 = LaunchScripts.generate(inventory(2), full, config(full), LaunchScripts.Launcher.RANKTABLE, OPTS).get("node0_10.0.0.11.sh");
        assertTrue(v10.contains("export ENABLE_CELL_REUSE='1'\n"), "MindFormers 1.0 reads ENABLE_CELL_REUSE with pp > 1");
        assertFalse(v10.contains("ENABLE_LAZY_INLINE") || v10.contains("DEVICE_NUM_PER_NODE"), v10);
        assertTrue(v10.contains("ulimit -u unlimited"), v10);
        Plan b = plan910b();
        String v13 = LaunchScripts.generate(inventory910b(), b, config(b), LaunchScripts.Launcher.RANKTABLE, mf("1.3", "ascend-910b"), OPTS)
                .get("node0_10.0.0.11.sh");
        assertTrue(v13.contains("export DEVICE_NUM_PER_NODE='8'\n"), v13);
        assertFalse(v13.contains("ENABLE_CELL_REUSE") || v13.contains("MS_DEV_SIDE_EFFECT_LOAD_ELIM"), v13);
        // Every exported variable is preceded by the comment that says where it comes from.
        for (String script : List.of(v10, v13)) {
            String[] lines = script.split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].startsWith("export ") && !lines[i].startsWith("export PYTHONPATH") && !lines[i].startsWith("export RANK_TABLE_FILE")) {
                    assertTrue(lines[i - 1].startsWith("# "), "no source for " + lines[i]);
                }
            }
        }
    }

    @Test
    void whenOneRankDiesTheServerStopsTheOthersAndTheirChildren() throws Exception {
        Plan plan = TestPlans.fixed(dev.ascendj.plan.ClusterSpec.parse("2x2-910a"), 4, 1, 1, 1, 1, dev.ascendj.plan.Recompute.NONE);
        Inventory inv = Inventory.read(TestFiles.write(dir, "two.yaml", LabCluster.inventoryYaml(2, 2).replace("name: lab", "name: lab\nuser: hpc")));
        // A stand-in for ssh on the server's PATH: records how the peer was called and what it was sent.
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(bin.resolve("ssh"), "#!/bin/bash\necho \"$*\" > '" + dir.resolve("peer-args") + "'\ncat > '"
                + dir.resolve("peer-stdin") + "'\n");
        Files.setPosixFilePermissions(bin.resolve("ssh"), PosixFilePermissions.fromString("rwx------"));
        Path job = dir.resolve("job");
        // A stand-in for python: rank 1 fails after a moment; rank 0 would run for a minute with a child of its own.
        Path python = dir.resolve("fake-python");
        Files.writeString(python, "#!/bin/bash\nif [ \"$RANK_ID\" = 1 ]; then sleep 1; exit 3; fi\n"
                + "sleep 60 &\necho $! > \"$PWD/rank0-child.pid\"\nwait\n");
        Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwx------"));
        LaunchScripts.Options o = new LaunchScripts.Options(job.toString(), dir.resolve("mf").toString(), dir.resolve("no-cann.sh").toString(),
                python.toString(), 8118, 600, 600, 1800);
        String script = LaunchScripts.generate(inv, plan, "seed: 0\n", LaunchScripts.Launcher.RANKTABLE, o).get("node0_10.0.0.11.sh");
        Path f = TestFiles.write(dir, "node0.sh", script);
        ProcessBuilder pb = new ProcessBuilder("bash", f.toString()).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(90, java.util.concurrent.TimeUnit.SECONDS), "the node script did not stop");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(3, p.exitValue(), out);
            assertTrue(out.contains("rank 1 failed with status 3 (output/log/rank_1/mindformer.log)"), out);
            assertTrue(out.contains("stopping every process of the job on every server"), out);
            long child = Long.parseLong(Files.readString(job.resolve("rank0-child.pid")).trim());
            assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "rank 0's child survived");
            assertTrue(Files.exists(job.resolve(".ascendj/stop.sh")));
            assertEquals("-o BatchMode=yes -o ConnectTimeout=10 -l hpc -- 10.0.0.12 bash -s", Files.readString(dir.resolve("peer-args")).trim());
            assertTrue(Files.readString(dir.resolve("peer-stdin")).contains("# ascendj: stop the processes of job "), "stop script sent");
            assertTrue(out.contains("stopped the ranks of 10.0.0.12"), out);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void theLauncherStopsTheOtherServersWhenOneFails() throws Exception {
        Inventory inv = inventory(2);
        Path marks = Files.createDirectories(dir.resolve("marks"));
        // A stand-in for ssh: the stop script marks its host; 10.0.0.12's job fails; 10.0.0.11's runs until stopped (bounded).
        Path f = dir.resolve("stop-ssh");
        Files.writeString(f, "#!/bin/bash\nfor a; do host=\"$prev\"; prev=\"$a\"; done\nscript=$(cat)\n"
                + "if [[ \"$script\" == *'stop the processes'* ]]; then touch '" + marks + "'/\"$host\"; exit 0; fi\n"
                + "[ \"$host\" = 10.0.0.12 ] && exit 3\n"
                + "for i in $(seq 1 300); do [ -f '" + marks + "'/\"$host\" ] && exit 143; sleep 0.1; done\nexit 0\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
        StringWriter sw = new StringWriter();
        Map<String, Integer> status = new SshRunner(f.toString(), null).run(inv, List.of("job\n", "job\n"),
                NodeScript.stopScript("/data/job1", "abc123"), new PrintWriter(sw));
        assertEquals(Map.of("10.0.0.11", 143, "10.0.0.12", 3), status, sw.toString());
        assertTrue(Files.exists(marks.resolve("10.0.0.11")), sw.toString());
        assertTrue(sw.toString().contains("a server failed: stopping the job on every other server"), sw.toString());
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
        Inventory inv = Inventory.read(TestFiles.write(dir, "u.yaml", "user: hpc\nhardware: ascend-910a\nservers:\n"
                + "  - host: node-1.lab\n    sshPort: 2222\n    devices: [{id: 0, ip: 192.168.100.101}]\n"));
        assertEquals(List.of("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=30", "-p", "2222",
                "-l", "hpc", "--", "node-1.lab", "bash -s"), new SshRunner("ssh", inv.user()).command(inv.servers().get(0)));
        assertThrows(LaunchException.class, () -> new SshRunner("ssh -oProxyCommand=x", null));
        assertThrows(LaunchException.class, () -> new SshRunner("ssh", "root;id"));
        assertThrows(LaunchException.class, () -> new SshRunner("ssh", null).command(new Inventory.Server("-oProxyCommand=id", 0, List.of())));
    }

    @Test
    void runnerStreamsOutputAndReportsStatusPerHost() throws IOException {
        Inventory inv = inventory(2);
        StringWriter sw = new StringWriter();
        Map<String, Integer> status = new SshRunner(LabCluster.fakeSsh(dir).toString(), null).run(inv, List.of("a\nb\n", "c\n"), new PrintWriter(sw));
        assertEquals(Map.of("10.0.0.11", 0, "10.0.0.12", 3), status);
        assertTrue(sw.toString().contains("[10.0.0.11] host=10.0.0.11 lines=2"), sw.toString());
        assertTrue(sw.toString().contains("[10.0.0.12] host=10.0.0.12 lines=1"), sw.toString());
    }

}
