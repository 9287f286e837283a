package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.plan.Plan;
import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import dev.ascendj.testkit.TestPlans;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreflightTest {

    static final Path SAMPLES = LabCluster.preflightRecordings("healthy").getParent();

    @TempDir
    Path dir;

    @Test
    void parsesNpuSmiInfo() throws Exception {
        NpuSmi.Info info = NpuSmi.parse(Files.readString(SAMPLES.resolve("broken/10.0.0.12/npu-smi-info.txt")), "x");
        assertEquals("23.0.rc3", info.version());
        assertEquals(8, info.npus().size());
        assertEquals(new NpuSmi.Npu(3, "910A", "OK", 30812, 32768), info.npus().get(3));
        assertEquals("Warning", info.npus().get(6).health());
        assertEquals(List.of(new NpuSmi.Proc(3, 48213, "python3.9", 30208)), info.processes());
    }

    @Test
    void brokenServerFailsWithFixes() {
        Inventory inv = Inventory.read(inv());
        Map<String, Map<String, String>> outputs = Map.of("10.0.0.11", Preflight.readRecorded(SAMPLES.resolve("broken/10.0.0.11")),
                "10.0.0.12", Preflight.readRecorded(SAMPLES.resolve("broken/10.0.0.12")));
        List<Preflight.Result> results = new Preflight(inv, null, Compatibility.builtIn(), 500_000_000_000L).run(outputs);
        List<String> failed = results.stream().filter(x -> !x.pass()).map(x -> x.host() + " " + x.check() + ": " + x.detail()).toList();
        assertEquals(List.of(
                "10.0.0.12 NPU 3 HBM: 30812 / 32768 MB in use",
                "10.0.0.12 NPU 6 health: 910A Warning",
                "10.0.0.12 NPU processes: 48213 python3.9 on NPU 3 (30208 MB)",
                "10.0.0.12 NIC 5 link: DOWN",
                "10.0.0.12 NIC 7 address: 192.168.103.199 (inventory: 192.168.103.122)",
                "10.0.0.12 firmware: 6.4.12.1.241",
                "10.0.0.12 disk: 123 GB free on /data, 500 GB needed",
                "cluster same firmware: {7.0.0.5.242=[10.0.0.11], 6.4.12.1.241=[10.0.0.12]}",
                "cluster clock skew: 3.78 s between 10.0.0.11 and 10.0.0.12"), failed);
        String table = Preflight.table(results);
        assertTrue(table.contains("10.0.0.12 NPU processes: left from an earlier run: kill 48213"), table);
        assertTrue(table.contains("MindSpore 2.2 (MindFormers 1.0) needs firmware 7.0 or 7.1"), table);
        assertTrue(table.contains("9 checks failed. Fixes:"), table);
    }

    @Test
    void versionsOutsideTheTableAreNamed() throws Exception {
        Inventory inv = Inventory.read(inv());
        Map<String, String> a = Preflight.readRecorded(SAMPLES.resolve("healthy/10.0.0.11"));
        Map<String, String> b = new java.util.HashMap<>(Preflight.readRecorded(SAMPLES.resolve("healthy/10.0.0.12")));
        b.put("mindspore-version.txt", "2.3.0\n");
        List<Preflight.Result> results = new Preflight(inv, null, Compatibility.builtIn(), 0).run(Map.of("10.0.0.11", a, "10.0.0.12", b));
        Preflight.Result ms = results.stream().filter(x -> x.host().equals("10.0.0.12") && x.check().equals("MindSpore")).findFirst().get();
        assertFalse(ms.pass());
        assertTrue(ms.fix().contains("do not support ascend-910a"), ms.fix());
        assertTrue(Compatibility.matches(List.of("2.2"), "2.2.10"));
        assertFalse(Compatibility.matches(List.of("2.2"), "2.21.0"));
        assertTrue(Compatibility.matches(List.of("8.0.RC1"), "8.0.rc1"));
    }

    @Test
    void collectScriptIsValidBashAndItsSectionsParse() throws Exception {
        Inventory inv = Inventory.read(inv());
        String script = Preflight.collectScript(inv.servers().get(0), "/data/it's here");
        Path f = TestFiles.write(dir, "collect.sh", script);
        assertEquals(0, new ProcessBuilder("bash", "-n", f.toString()).start().waitFor());
        assertTrue(script.contains("hccn_tool -i 7 -ip -g"));
        Map<String, String> s = Preflight.sections("==> a.txt\nline 1\nline 2\n==> date.txt\n123.5\n");
        assertEquals(Map.of("a.txt", "line 1\nline 2\n", "date.txt", "123.5\n\n"), s);
    }

    @Test
    void minimumDiskFollowsThePlan() throws Exception {
        Inventory inv = Inventory.read(inv());
        long need = Preflight.defaultMinFree(inv, TestPlans.twoByEight());
        // 5 checkpoints x 6.74e9 parameters x 16 bytes over 2 servers
        assertEquals(5 * 6_738_415_616L * 16 / 2, need);
    }

    @Test
    void jobPathsMindFormersReleaseAndTheSharedDiskRuleAreCheckedOnEveryServer() throws Exception {
        Inventory inv = Inventory.read(inv());
        Plan plan = TestPlans.twoByEight();
        String yaml = MindFormersConfig.generate(plan, new MindFormersConfig.Options("llama2-7b", "/data/alpaca/mindrecord",
                "/models/llama2_7b.ckpt", "/models/tokenizer.model", 2, null, "./output", true, false));
        Preflight.Job job = Preflight.Job.of(MindFormersConfig.parse(yaml, "run.yaml"), "/shared/job1", "/opt/mindformers",
                Compatibility.builtIn().stackFor("ascend-910a", null));
        Map<String, String> a = new java.util.HashMap<>(Preflight.readRecorded(SAMPLES.resolve("healthy/10.0.0.11")));
        Map<String, String> b = new java.util.HashMap<>(Preflight.readRecorded(SAMPLES.resolve("healthy/10.0.0.12")));
        String all = "file\t/opt/mindformers/run_mindformer.py\nfile\t/models/llama2_7b.ckpt\ndir\t/data/alpaca/mindrecord\n"
                + "file\t/models/tokenizer.model\n";
        a.put("paths.txt", all);
        b.put("paths.txt", all.replace("dir\t/data/alpaca/mindrecord", "missing\t/data/alpaca/mindrecord"));
        a.put("mounts.txt", "/dev/sda2 / ext4 rw 0 0\n10.0.0.5:/export /shared nfs rw,vers=3 0 0\n");
        b.put("mounts.txt", "/dev/sda2 / ext4 rw 0 0\n10.0.0.5:/export /shared nfs4 rw,vers=4.2 0 0\n");
        a.put("jobdir.txt", "/shared/job1\n");
        b.put("jobdir.txt", "/shared/job1\n");
        a.put("mindformers-setup.txt", "        version='1.0.0',\n");
        b.put("mindformers-setup.txt", "        version='1.1.0',\n");
        List<Preflight.Result> results = new Preflight(inv, plan, Compatibility.builtIn(), 0, job).run(Map.of("10.0.0.11", a, "10.0.0.12", b));
        List<String> failed = results.stream().filter(x -> !x.pass()).map(x -> x.host() + " " + x.check() + ": " + x.detail()).toList();
        assertEquals(List.of(
                "10.0.0.12 dataset: /data/alpaca/mindrecord: missing",
                "10.0.0.12 MindFormers: 1.1.0 in /opt/mindformers",
                "10.0.0.12 shared output_dir: /shared/job1/output on mount /shared (nfs4)"), failed);
        assertTrue(results.stream().anyMatch(x -> x.host().equals("10.0.0.11") && x.check().equals("shared output_dir") && x.pass()));
        String table = Preflight.table(results);
        assertTrue(table.contains("nfs4 and fuse.sshfs do not pass"), table);
    }

    @Test
    void theJobPartOfTheCollectScriptReportsWhatExistsHere() throws Exception {
        Inventory inv = Inventory.read(inv());
        Path job = Files.createDirectories(dir.resolve("job"));
        Path mf = Files.createDirectories(dir.resolve("mf"));
        Files.writeString(mf.resolve("run_mindformer.py"), "");
        Files.writeString(mf.resolve("setup.py"), "setup(\n        version='1.0.0',\n)\n");
        Files.createDirectories(job.resolve("data"));
        Preflight.Job j = new Preflight.Job(job.toString(), mf.toString(), Compatibility.builtIn().stackFor("ascend-910a", null), "./output",
                true, "sharded", "data", "missing.model");
        Files.createDirectories(job.resolve("sharded/rank_0"));
        String script = Preflight.collectScript(inv.servers().get(0), job.toString(), j, List.of(0, 1));
        Map<String, String> sec = Preflight.sections(SshRunner.captureLocal(script));
        assertEquals("file\t" + mf + "/run_mindformer.py\ndir\tsharded/rank_0\nmissing\tsharded/rank_1\ndir\tdata\nmissing\tmissing.model\n",
                sec.get("paths.txt"));
        assertEquals(job.toRealPath().toString(), sec.get("jobdir.txt").trim());
        assertTrue(sec.get("mounts.txt").contains(" / "), sec.get("mounts.txt"));
        assertTrue(sec.get("mindformers-setup.txt").contains("version='1.0.0'"));
    }

    private Path inv() {
        return TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 8));
    }

    @Test
    void theVerdictCountsChecksInWords() {
        Preflight.Result ok = new Preflight.Result("10.0.0.11", "npu-count", true, "8 NPUs", "");
        assertTrue(Preflight.table(List.of(ok)).endsWith("\nthe 1 check passed\n"), Preflight.table(List.of(ok)));
        assertTrue(Preflight.table(List.of(ok, ok)).endsWith("\nall 2 checks passed\n"));
    }
}
