package dev.ascendj.cli;

import static dev.ascendj.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.ascendj.core.DType;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.launch.CheckpointConverter;
import dev.ascendj.launch.MsCheckpoint;
import dev.ascendj.launch.RankTable;
import dev.ascendj.launch.RankTableBuilder;
import dev.ascendj.launch.StrategyFile;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.ModelFiles;
import dev.ascendj.model.io.SafetensorsFile;
import dev.ascendj.model.io.TensorInfo;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import dev.ascendj.testkit.CommandRun;
import dev.ascendj.testkit.LabCluster;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator toolkit run as an operator chains it, every command through the {@code ascendj}
 * root command: an inventory of 2 servers x 8 910A, {@code plan --save}, {@code ranktable},
 * {@code mindformers} (and {@code --check}), {@code launch} for both engines (the scripts run with
 * bash on this machine, stand-ins taking the place of MindFormers' {@code run_mindformer.py} and of
 * the servers' {@code java}), {@code monitor} on the logs they leave, {@code preflight} on recorded
 * outputs, and {@code convert} of a tiny Hugging Face model to MindSpore checkpoints and back.
 * Every output is read back and checked for what it must hold; every command refuses bad input
 * with the file and the field named, exit code 2 and nothing written. ({@code prepare-data} is
 * run from the prepared data in {@link KgCommandsTest}.)
 */
class OperatorCommandsTest {

    private static final int SERVERS = 2;
    private static final int NPUS = 8;

    @TempDir
    static Path dir;
    static Path inventory;
    static Path plan;
    static Path rankTable;
    static Path config;

    /** The job: LLaMA2-7B full fine-tuning on the 2 x 8 lab as dp 4, pp 4 (global batch 64 x 2048 tokens). */
    @BeforeAll
    static void inventoryPlanRankTableAndConfig() throws IOException {
        inventory = Files.writeString(dir.resolve("cluster.yaml"), LabCluster.inventoryYaml(SERVERS, NPUS));
        plan = dir.resolve("plan.json");
        ok(run("plan", "--cluster", inventory.toString(), "--model", "llama2-7b", "--method", "full", "--seq-len", "2048",
                "--global-batch", "64", "--dp", "4", "--tp", "1", "--pp", "4", "--micro-batch-size", "1", "--micro-batches", "16",
                "--recompute", "selective", "--optimizer-shard", "true", "--sequence-parallel", "false", "--save", plan.toString()));
        rankTable = dir.resolve("hccl_2s_16p.json");
        CommandRun rt = ok(run("ranktable", "--inventory", inventory.toString(), "--plan", plan.toString(), "-o", rankTable.toString()));
        assertEquals("rank table for 2 servers, 16 ranks written to " + rankTable + "\n", rt.out());
        config = dir.resolve("run_llama2_7b.yaml");
        CommandRun mf = ok(run("mindformers", "--plan", plan.toString(), "--model", "llama2-7b", "--data", "/data/job1/data",
                "--load-checkpoint", "/data/llama2_7b_sharded", "--vocab-file", "/models/llama2_7b/tokenizer.model",
                "--out", config.toString()));
        assertEquals("MindFormers config written to " + config + "\n", mf.out());
    }

    // ------------------------------------------------------------------ ranktable

    @Test
    void theRankTableNumbersEveryNpuAsThePlanDoesOneBlockPerServer() throws IOException {
        Plan p = Plan.read(plan);
        assertEquals(List.of(4, 1, 4), List.of(p.dp(), p.tp(), p.pp()));
        RankTable t = RankTableBuilder.read(rankTable);
        assertEquals("1.0", t.version());
        assertEquals("completed", t.status());
        assertEquals("2", t.serverCount());
        for (int s = 0; s < SERVERS; s++) {
            RankTable.Server server = t.serverList().get(s);
            assertEquals(LabCluster.host(s), server.serverId());
            assertEquals("reserve", server.hostNicIp());
            assertEquals(NPUS, server.device().size());
            for (int d = 0; d < NPUS; d++) {
                RankTable.Device dev = server.device().get(d);
                assertEquals(String.valueOf(d), dev.deviceId());
                assertEquals(LabCluster.deviceIp(s, d), dev.deviceIp(), "server " + s + " NPU " + d);
                RankAssignment a = assignment(p, s, d);
                assertEquals(List.of(LabCluster.host(s), LabCluster.deviceIp(s, d)), List.of(a.host(), a.deviceIp()), "the plan's rank map");
                assertEquals(String.valueOf(a.rank()), dev.rankId(), "server " + s + " NPU " + d);
                // HCCL takes no rank interleaving across servers: server s holds ranks 8s..8s+7.
                assertEquals(String.valueOf(s * NPUS + d), dev.rankId());
            }
        }
        // Every value is a string, as HCCL reads them.
        JsonNode raw = new ObjectMapper().readTree(rankTable.toFile());
        assertTrue(leaves(raw).allMatch(JsonNode::isTextual), raw.toString());
    }

    @Test
    void ranktableRefusesAnInventoryThePlanWasNotMadeFor() throws IOException {
        // The servers listed the other way round: the plan's rank map names 10.0.0.11 as server 0.
        String swapped = LabCluster.inventoryYaml(SERVERS, NPUS).replace("host: 10.0.0.11", "host: TMP")
                .replace("host: 10.0.0.12", "host: 10.0.0.11").replace("host: TMP", "host: 10.0.0.12");
        Path inv = Files.writeString(dir.resolve("swapped.yaml"), swapped);
        Path out = dir.resolve("ranktable-bad/hccl.json");
        CommandRun r = run("ranktable", "--inventory", inv.toString(), "--plan", plan.toString(), "-o", out.toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().startsWith("ascendj ranktable: " + inv + ": servers[0].host is 10.0.0.12, but the plan's server 0 is 10.0.0.11"),
                r.err());
        assertFalse(Files.exists(out.getParent()), "nothing written");

        CommandRun noPlan = run("ranktable", "--inventory", inventory.toString(), "-o", out.toString());
        assertEquals(2, noPlan.code());
        assertEquals("ascendj ranktable: --plan is required (or --merge)\n", noPlan.err());
        CommandRun usage = run("ranktable", "--inventory", inventory.toString(), "--plan");
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("Missing required parameter for option '--plan'"), usage.err());
        assertFalse(Files.exists(out.getParent()), "nothing written");
    }

    // ------------------------------------------------------------------ mindformers

    @Test
    void theMindFormersConfigCarriesThePlanAndItsCheckAcceptsIt() throws IOException {
        Plan p = Plan.read(plan);
        JsonNode y = new YAMLMapper().readTree(config.toFile());
        assertEquals("finetune", y.at("/run_mode").asText());
        assertEquals(p.dp(), y.at("/parallel_config/data_parallel").intValue());
        assertEquals(p.tp(), y.at("/parallel_config/model_parallel").intValue());
        assertEquals(p.pp(), y.at("/parallel_config/pipeline_stage").intValue());
        assertEquals(p.microBatches(), y.at("/parallel_config/micro_batch_num").intValue());
        assertEquals(p.microBatchSize(), y.at("/runner_config/batch_size").intValue());
        assertEquals(p.optimizerShard(), y.at("/parallel/enable_parallel_optimizer").booleanValue());
        assertEquals(2048, y.at("/model/model_config/seq_length").intValue());
        assertEquals(32, y.at("/model/model_config/num_layers").intValue());
        assertEquals(4096, y.at("/model/model_config/hidden_size").intValue());
        assertEquals("float16", y.at("/model/model_config/compute_dtype").textValue());
        assertEquals("/data/job1/data", y.at("/train_dataset/data_loader/dataset_dir").textValue());
        assertEquals("/data/job1/data", y.at("/train_dataset_task/dataset_config/data_loader/dataset_dir").textValue());
        // A directory of per-rank slices: no re-slicing by MindFormers, so no shared disk needed.
        assertEquals("/data/llama2_7b_sharded", y.at("/load_checkpoint").textValue());
        assertFalse(y.at("/auto_trans_ckpt").booleanValue());
        assertEquals("/models/llama2_7b/tokenizer.model", y.at("/processor/tokenizer/vocab_file").textValue());
        assertTrue(y.at("/optimizer/learning_rate").isDouble(), "a float, also for PyYAML: " + y.at("/optimizer"));

        CommandRun check = run("mindformers", "--check", config.toString(), "--plan", plan.toString(), "--inventory", inventory.toString());
        assertEquals(0, check.code(), check.output());
        assertTrue(check.out().endsWith(config + ": OK (0 errors, 0 warnings)\n"), check.out());

        // A hand edit that MindFormers would refuse at start-up: the check names the field.
        Path edited = Files.writeString(dir.resolve("edited.yaml"), Files.readString(config).replace("pipeline_stage: 4", "pipeline_stage: 2"));
        CommandRun bad = run("mindformers", "--check", edited.toString(), "--plan", plan.toString(), "--inventory", inventory.toString());
        assertEquals(1, bad.code(), bad.output());
        assertTrue(bad.out().contains("error: parallel_config: data_parallel 4 x model_parallel 1 x pipeline_stage 2 = 8, but the job has "
                + "16 devices; MindFormers refuses to start"), bad.out());
        assertTrue(bad.out().contains("error: parallel_config.pipeline_stage: 2 differs from the plan's 4"), bad.out());
        assertTrue(bad.out().endsWith(edited + ": refused (" + errorCount(bad.out()) + (errorCount(bad.out()) == 1 ? " error" : " errors") + ", 0 warnings)\n"), bad.out());
    }

    @Test
    void mindformersRefusesBadInputAndWritesNoConfig() throws IOException {
        Path out = dir.resolve("mf-bad/run.yaml");
        String planText = Files.readString(plan);
        Path truncated = Files.writeString(dir.resolve("truncated-plan.json"), planText.substring(0, planText.length() / 2));
        CommandRun r = run("mindformers", "--plan", truncated.toString(), "--model", "llama2-7b", "--data", "/d", "--out", out.toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().startsWith("ascendj mindformers: " + truncated + ": "), r.err());
        CommandRun noData = run("mindformers", "--plan", plan.toString(), "--out", out.toString());
        assertEquals(2, noData.code());
        assertEquals("ascendj mindformers: --data and --out are required to write a config (or give --check FILE)\n", noData.err());
        // A whole checkpoint on 16 devices needs a shared output directory (MindFormers refuses at start-up otherwise).
        CommandRun whole = run("mindformers", "--plan", plan.toString(), "--data", "/d", "--load-checkpoint", "/models/llama2_7b.ckpt",
                "--out", out.toString());
        assertEquals(2, whole.code());
        assertTrue(whole.err().contains("with 16 devices (more than 8) it refuses that unless output_dir is on a shared disk"), whole.err());
        CommandRun missing = run("mindformers", "--check", dir.resolve("none.yaml").toString(), "--plan", plan.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("ascendj mindformers: " + dir.resolve("none.yaml")), missing.err());
        assertFalse(Files.exists(out.getParent()), "nothing written");
    }

    // ------------------------------------------------------------------ launch, then monitor

    /**
     * The MindFormers engine's scripts, run with bash, each in its own "server" directory: every
     * rank of the rank table starts once, on its server, with its NPU and rank id, the config and
     * the rank table written by the commands above; the logs its stand-in leaves are what
     * {@code monitor} then reads.
     */
    @Test
    void mindformersLaunchStartsEveryRankOnItsNpuAndMonitorReadsTheirLogs() throws Exception {
        Path bin = standIns();
        Path scripts = dir.resolve("launch-mf");
        CommandRun r = ok(run("launch", "--inventory", inventory.toString(), "--plan", plan.toString(), "--config", config.toString(),
                "--dry-run", "--out", scripts.toString(), "--workdir", "job", "--mindformers-dir", "/opt/mindformers",
                "--python", bin.resolve("python").toString()));
        List<String> names = List.of("node0_10.0.0.11.sh", "node1_10.0.0.12.sh", "stop.sh");
        assertEquals(new TreeSet<>(names), fileNames(scripts));
        for (String n : names) {
            assertTrue(r.out().contains("wrote " + scripts.resolve(n)), r.out());
            assertBashSyntax(scripts.resolve(n));
        }
        Path servers = dir.resolve("servers-mf");
        runServerScripts(scripts, servers, bin);

        RankTable table = RankTableBuilder.read(rankTable);
        Set<Integer> started = new TreeSet<>();
        for (int s = 0; s < SERVERS; s++) {
            Path job = servers.resolve(LabCluster.host(s)).resolve("job");
            assertArrayEquals(Files.readAllBytes(config), Files.readAllBytes(job.resolve("ascendj_mindformers.yaml")));
            assertEquals(table, RankTableBuilder.read(job.resolve("ascendj_rank_table.json")));
            Map<String, String> expected = new TreeMap<>();
            for (RankTable.Device d : table.serverList().get(s).device()) {
                expected.put(d.rankId(), "DEVICE_ID=" + d.deviceId() + " RANK_ID=" + d.rankId() + " RANK_SIZE=16 RANK_TABLE_FILE="
                        + job.toRealPath().resolve("ascendj_rank_table.json") + " args=/opt/mindformers/run_mindformer.py --config "
                        + job.toRealPath().resolve("ascendj_mindformers.yaml") + " --use_parallel True --run_mode finetune");
            }
            Map<String, String> seen = new TreeMap<>();
            try (Stream<Path> files = Files.list(job.resolve("seen"))) {
                for (Path f : files.toList()) {
                    seen.put(f.getFileName().toString(), Files.readString(f).trim());
                }
            }
            assertEquals(expected, seen, "processes started on " + LabCluster.host(s));
            seen.keySet().forEach(k -> started.add(Integer.parseInt(k)));
        }
        assertEquals(IntStream.range(0, SERVERS * NPUS).boxed().collect(Collectors.toCollection(TreeSet::new)), started);

        // monitor, on the rank logs of both servers collected into one directory.
        Path output = dir.resolve("collected/output");
        for (int s = 0; s < SERVERS; s++) {
            FinetuneNodesTest.copyTree(servers.resolve(LabCluster.host(s)).resolve("job/output"), output);
        }
        Path png = dir.resolve("loss.png");
        CommandRun m = run("monitor", output.toString(), "--plan", plan.toString(), "--plot", png.toString());
        assertEquals(0, m.code(), m.output());
        List<String> lines = m.out().lines().toList();
        assertEquals(List.of("rank", "steps", "last", "loss", "step", "ms", "tokens/s/dev", "loss", "scale", "overflows"),
                List.of(lines.get(0).trim().split("\\s+")));
        // 64 sequences x 2048 tokens per step, a median step of 1200 ms, 16 devices.
        String tokensPerDevice = String.format(Locale.ROOT, "%.1f", 64 * 2048 / 1.2 / 16);
        for (int rank = 0; rank < SERVERS * NPUS; rank++) {
            assertEquals(List.of(String.valueOf(rank), "5", "5", "1.6000", "1200.0", tokensPerDevice, "65536", "0"),
                    List.of(lines.get(1 + rank).trim().split("\\s+")), m.out());
        }
        assertEquals(List.of("healthy", "loss curves written to " + png), lines.subList(1 + SERVERS * NPUS, lines.size()));
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() >= 200 && img.getHeight() >= 100, img.getWidth() + "x" + img.getHeight());

        // Rank 13 then reports an HCCL timeout: monitor names the rank, the code and what it means, and exits 1.
        Path log13 = output.resolve("log/rank_13/mindformer.log");
        Files.writeString(log13, "[ERROR] HCCL(4711,python):2026-11-25-09:21:29.117.552 [hccl_socket_manager.cc:412][4711][Wait][Socket]: "
                + "EI0002: The wait execution of the Notify register times out.\n", StandardOpenOption.APPEND);
        CommandRun sick = run("monitor", output.toString(), "--plan", plan.toString());
        assertEquals(1, sick.code(), sick.output());
        assertTrue(sick.out().contains("error: rank 13 mindformer.log:6: EI0002 - HCCL notify wait timed out"), sick.out());
        assertTrue(sick.out().endsWith("needs attention\n"), sick.out());
    }

    /** The native engine's scripts: one JVM per server, told its node index and server 0's coordinator, with the plan. */
    @Test
    void nativeLaunchStartsOneNodePerServerWithThePlan() throws Exception {
        Path nativePlan = dir.resolve("plan-native.json");
        ok(run("plan", "--cluster", inventory.toString(), "--model", "llama2-15m", "--engine", "native", "--method", "full",
                "--seq-len", "256", "--global-batch", "32", "--top", "1", "--save", nativePlan.toString()));
        assertEquals("native", new ObjectMapper().readTree(nativePlan.toFile()).get("engine").asText());
        Path bin = standIns();
        Path scripts = dir.resolve("launch-native");
        List<String> finetune = List.of("--model", "/models/tiny", "--data", "/data/kg train.jsonl", "--method", "full", "--steps", "10",
                "--out", "runs/job1");
        List<String> args = new ArrayList<>(List.of("launch", "--engine", "native", "--inventory", inventory.toString(), "--plan",
                nativePlan.toString(), "--workdir", "job", "--java", bin.resolve("java").toString(), "--coordinator-port", "29555",
                "--dry-run", "--out", scripts.toString(), "--"));
        args.addAll(finetune);
        ok(run(args.toArray(String[]::new)));
        List<String> names = List.of("node0_10.0.0.11.sh", "node1_10.0.0.12.sh", "stop.sh");
        assertEquals(new TreeSet<>(names), fileNames(scripts));
        for (String n : names) {
            assertBashSyntax(scripts.resolve(n));
        }
        Path servers = dir.resolve("servers-native");
        runServerScripts(scripts, servers, bin);
        for (int s = 0; s < SERVERS; s++) {
            Path job = servers.resolve(LabCluster.host(s)).resolve("job");
            assertArrayEquals(Files.readAllBytes(nativePlan), Files.readAllBytes(job.resolve("ascendj_plan.json")));
            assertEquals(List.of("ASCENDJ_NODES=2", "ASCENDJ_NODE_RANK=" + s, "ASCENDJ_COORDINATOR=10.0.0.11:29555",
                    "-jar", "ascendj.jar", "finetune", "--plan", "ascendj_plan.json", "--model", "/models/tiny", "--data", "/data/kg train.jsonl",
                    "--method", "full", "--steps", "10", "--out", "runs/job1"),
                    Files.readAllLines(job.resolve("seen/node")), "node on " + LabCluster.host(s));
            assertTrue(Files.readString(job.resolve("output/node_" + s + ".log")).contains("node " + s + " started"));
        }
    }

    @Test
    void launchRefusesBadInputAndWritesNoScripts() throws IOException {
        Path out = dir.resolve("launch-bad");
        Path edited = Files.writeString(dir.resolve("launch-edited.yaml"), Files.readString(config).replace("data_parallel: 4",
                "data_parallel: 2"));
        CommandRun r = run("launch", "--inventory", inventory.toString(), "--plan", plan.toString(), "--config", edited.toString(),
                "--dry-run", "--out", out.toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().contains(edited + ": error: parallel_config.data_parallel: 2 differs from the plan's 4"), r.err());
        assertTrue(r.err().endsWith("ascendj launch: " + edited + " fails the start-up checks (above); fix it or regenerate it with "
                + "ascendj mindformers\n"), r.err());
        CommandRun hostile = run("launch", "--inventory", writeInventory("hostile.yaml", LabCluster.inventoryYaml(SERVERS, NPUS)
                .replace("host: 10.0.0.12", "host: \"node2;reboot\"")).toString(), "--plan", plan.toString(), "--config", config.toString(),
                "--dry-run", "--out", out.toString());
        assertEquals(2, hostile.code(), hostile.output());
        assertTrue(hostile.err().contains("servers[1].host"), hostile.err());
        CommandRun planArg = run("launch", "--engine", "native", "--inventory", inventory.toString(), "--plan", plan.toString(),
                "--dry-run", "--out", out.toString(), "--", "--plan", "other.json");
        assertEquals(2, planArg.code());
        assertEquals("ascendj launch: finetune argument --plan: the launch sets the plan and the node options itself\n", planArg.err());
        CommandRun engine = run("launch", "--engine", "torch", "--inventory", inventory.toString(), "--plan", plan.toString(),
                "--dry-run", "--out", out.toString());
        assertEquals(2, engine.code());
        assertTrue(engine.err().startsWith("ascendj launch: --engine 'torch': expected mindformers or native"), engine.err());
        CommandRun usage = run("launch", "--plan", plan.toString(), "--dry-run");
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("Missing required option: '--inventory=FILE'"), usage.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void monitorRefusesBadInputAndWritesNoPlot() throws IOException {
        Path png = dir.resolve("monitor-bad/loss.png");
        Path empty = Files.createDirectories(dir.resolve("monitor-empty/output"));
        CommandRun none = run("monitor", empty.toString(), "--plot", png.toString());
        assertEquals(2, none.code(), none.output());
        assertTrue(none.err().startsWith("ascendj monitor: " + empty + ": "), none.err());
        CommandRun missing = run("monitor", dir.resolve("no-such-output").toString());
        assertEquals(2, missing.code());
        assertEquals("ascendj monitor: " + dir.resolve("no-such-output") + ": no such log directory\n", missing.err());
        Files.createDirectories(empty.resolve("log/rank_0"));
        Files.writeString(empty.resolve("log/rank_0/mindformer.log"), "2026-11-25 09:21:01,000 - mindformers[x.py:1] - INFO - { Epoch:[  1/  2], "
                + "step:[    1/ 1000], loss: 2.000, per_step_time: 1200ms, lr: 1e-05, overflow cond: False, loss_scale: 65536.0\n");
        Path notAPlan = Files.writeString(dir.resolve("not-a-plan.json"), "{\"dp\": 4}");
        CommandRun badPlan = run("monitor", empty.toString(), "--plan", notAPlan.toString(), "--plot", png.toString());
        assertEquals(2, badPlan.code(), badPlan.output());
        assertTrue(badPlan.err().startsWith("ascendj monitor: " + notAPlan + ": "), badPlan.err());
        CommandRun usage = run("monitor", "--plot", png.toString());
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("Missing required parameter: 'LOGDIR'"), usage.err());
        assertFalse(Files.exists(png.getParent()), "no plot written");
    }

    // ------------------------------------------------------------------ preflight

    @Test
    void preflightPassesTheHealthyRecordingsAndNamesWhatIsMissing() throws IOException {
        Path healthy = LabCluster.preflightRecordings("healthy");
        CommandRun r = run("preflight", "--inventory", inventory.toString(), "--plan", plan.toString(), "--from", healthy.toString());
        assertEquals(0, r.code(), r.output());
        List<String[]> rows = r.out().lines().skip(1).takeWhile(l -> !l.isBlank()).map(l -> l.split("\\s{2,}")).toList();
        assertTrue(rows.stream().allMatch(row -> row[2].equals("ok")), r.out());
        assertTrue(r.out().endsWith("\nall " + rows.size() + " checks passed\n"), r.out());
        for (int s = 0; s < SERVERS; s++) {
            String host = LabCluster.host(s);
            Map<String, String> found = new HashMap<>();
            rows.stream().filter(row -> row[0].equals(host)).forEach(row -> found.put(row[1], row.length > 3 ? row[3] : ""));
            for (int d = 0; d < NPUS; d++) {
                assertTrue(found.containsKey("NPU " + d + " health"), host + " NPU " + d + ": " + found.keySet());
                assertEquals("UP", found.get("NIC " + d + " link"), host + " NIC " + d);
                assertEquals(LabCluster.deviceIp(s, d), found.get("NIC " + d + " address"), host + " NIC " + d);
            }
            // The disk check follows the plan: five checkpoints of 6.74e9 parameters x 16 bytes, over two servers.
            assertTrue(found.get("disk").endsWith(", " + Math.round(5 * 6_738_415_616L * 16 / 2 / 1e9) + " GB needed"), found.get("disk"));
        }

        // One server's recordings missing: its checks fail, naming it; the other's still pass.
        Path partial = dir.resolve("preflight-partial");
        FinetuneNodesTest.copyTree(healthy.resolve("10.0.0.11"), partial.resolve("10.0.0.11"));
        CommandRun p = run("preflight", "--inventory", inventory.toString(), "--from", partial.toString());
        assertEquals(1, p.code(), p.output());
        List<String[]> prow = p.out().lines().skip(1).takeWhile(l -> !l.isBlank()).map(l -> l.split("\\s{2,}")).toList();
        assertTrue(prow.stream().filter(row -> row[0].equals("10.0.0.11")).allMatch(row -> row[2].equals("ok")), p.out());
        assertEquals(List.of(List.of("10.0.0.12", "outputs", "FAIL", "no recording in " + partial.resolve("10.0.0.12"))),
                prow.stream().filter(row -> row[0].equals("10.0.0.12")).map(List::of).toList(), p.out());
        assertTrue(p.out().endsWith("\n1 check failed. Fixes:\n  10.0.0.12 outputs: record this server's outputs there"
                + " (ascendj preflight --save DIR, run where the server is reachable) or give the --from directory that"
                + " holds them\n"), p.out());

        // A malformed NPU address in the inventory: exit 2 before anything is read.
        Path bad = writeInventory("bad-ip.yaml", LabCluster.inventoryYaml(SERVERS, NPUS).replace("192.168.101.102", "192.168.101.302"));
        CommandRun b = run("preflight", "--inventory", bad.toString(), "--from", healthy.toString());
        assertEquals(2, b.code(), b.output());
        assertTrue(b.err().startsWith("ascendj preflight: " + bad + ": servers[1].devices[1].ip"), b.err());
        assertEquals("", b.out());
    }

    // ------------------------------------------------------------------ convert

    /**
     * A tiny LLaMA saved as Hugging Face does (two safetensors shards) to one MindSpore checkpoint
     * and back, and to per-rank slices for a dp 2 x tp 2 strategy and back: the same bits each way.
     */
    @Test
    void convertTakesATinyModelToMindSporeAndBackBitForBit() throws IOException {
        Path hf = dir.resolve("hf-tiny");
        LlamaConfig c = LlamaConfig.builder().hidden(64).intermediate(96).layers(2).heads(4).kvHeads(2).vocab(128).build();
        try (LlamaModel m = LlamaModel.initialize(c, new CpuBackend(1).device(0), 5, null)) {
            ModelFiles.save(m, hf, DType.FP16, 40_000);
        }
        Map<String, byte[]> original = tensors(hf);
        assertTrue(safetensorsIn(hf).size() >= 2, "a sharded model: " + safetensorsIn(hf));

        Path ckpt = dir.resolve("ms/llama_tiny.ckpt");
        CommandRun toMs = ok(run("convert", "hf-to-mindspore", hf.toString(), ckpt.toString()));
        assertEquals(original.size() + " tensors written to " + ckpt + "\n", toMs.out());
        List<String> tags = MsCheckpoint.index(ckpt).stream().map(MsCheckpoint.Entry::tag).toList();
        assertEquals(original.keySet().stream().map(CheckpointConverter::toMindSpore).collect(Collectors.toCollection(TreeSet::new)),
                new TreeSet<>(tags));
        assertTrue(tags.containsAll(List.of("model.tok_embeddings.embedding_weight", "model.layers.1.attention.wk.weight",
                "model.layers.0.feed_forward.w2.weight", "model.layers.1.ffn_norm.weight", "model.norm_out.weight", "lm_head.weight")), tags.toString());
        Path back = dir.resolve("hf-back/model.safetensors");
        CommandRun toHf = ok(run("convert", "mindspore-to-hf", ckpt.toString(), back.toString()));
        assertEquals(original.size() + " tensors written to " + back + "\n", toHf.out());
        assertSameTensors(hf, back.getParent());

        // Per-rank slices for a strategy of dp 2 x tp 2 (the files a strategy-only MindFormers run writes), and back.
        Path strategies = writeStrategies(dir.resolve("strategy"), original.keySet(), 4);
        Path sharded = dir.resolve("sharded");
        CommandRun slice = ok(run("convert", "hf-to-mindspore", hf.toString(), sharded.toString(), "--strategy", strategies.toString()));
        assertTrue(slice.out().startsWith("4 ranks written to " + sharded), slice.out());
        // Rank 1 (tensor-parallel index 1) holds the second half of wq's rows and of wo's columns.
        Path rank1 = dir.resolve("rank1/model.safetensors");
        ok(run("convert", "mindspore-to-hf", sharded.resolve("rank_1/checkpoint_1.ckpt").toString(), rank1.toString()));
        Map<String, byte[]> r1 = tensors(rank1.getParent());
        String wq = "model.layers.0.self_attn.q_proj.weight";
        String wo = "model.layers.0.self_attn.o_proj.weight";
        assertArrayEquals(Arrays.copyOfRange(original.get(wq), original.get(wq).length / 2, original.get(wq).length), r1.get(wq));
        assertArrayEquals(columns(original.get(wo), 64, 32, 64, 2), r1.get(wo));
        assertArrayEquals(original.get("model.norm.weight"), r1.get("model.norm.weight"));
        Path merged = dir.resolve("hf-merged");
        CommandRun join = ok(run("convert", "mindspore-to-hf", sharded.toString(), merged.toString(), "--strategy", strategies.toString()));
        assertTrue(join.out().startsWith(original.size() + " tensors merged, 0 optimizer and bookkeeping entries dropped; written to "),
                join.out());
        assertSameTensors(hf, merged);
    }

    @Test
    void convertRefusesBadInputAndWritesNothing() throws IOException {
        Path hf = dir.resolve("hf-bad");
        Files.createDirectories(hf);
        LlamaConfig c = LlamaConfig.builder().build();
        try (LlamaModel m = LlamaModel.initialize(c, new CpuBackend(1).device(0), 1, null)) {
            ModelFiles.save(m, dir.resolve("hf-good"), DType.FP32);
        }
        byte[] whole = Files.readAllBytes(dir.resolve("hf-good/model.safetensors"));
        Path cut = Files.write(hf.resolve("model.safetensors"), Arrays.copyOf(whole, whole.length - 100));
        Path out = dir.resolve("convert-bad/m.ckpt");
        CommandRun r = run("convert", "hf-to-mindspore", hf.toString(), out.toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.err().startsWith("ascendj convert: " + cut), r.err());
        CommandRun junk = run("convert", "mindspore-to-hf", cut.toString(), dir.resolve("convert-bad/x.safetensors").toString());
        assertEquals(2, junk.code(), junk.output());
        assertTrue(junk.err().startsWith("ascendj convert: " + cut + ": not a MindSpore checkpoint"), junk.err());
        CommandRun noRanks = run("convert", "mindspore-to-hf", hf.toString(), dir.resolve("convert-bad/hf").toString());
        assertEquals(2, noRanks.code());
        assertTrue(noRanks.err().startsWith("ascendj convert: " + hf + ": no rank_N/ directories"), noRanks.err());
        CommandRun usage = run("convert", "hf-to-mindspore", hf.toString());
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("Missing required parameter: 'OUT'"), usage.err());
        assertFalse(Files.exists(out.getParent()), "nothing written");
    }

    // ------------------------------------------------------------------ helpers

    private static CommandRun ok(CommandRun r) {
        assertEquals(0, r.code(), r.output());
        return r;
    }

    private static Path writeInventory(String name, String yaml) throws IOException {
        return Files.writeString(dir.resolve(name), yaml);
    }

    private static long errorCount(String out) {
        return out.lines().filter(l -> l.startsWith("error: ")).count();
    }

    private static RankAssignment assignment(Plan p, int server, int device) {
        return p.ranks().stream().filter(r -> r.server() == server && r.deviceId() == device).findFirst().orElseThrow();
    }

    private static Stream<JsonNode> leaves(JsonNode n) {
        if (n.isContainerNode()) {
            List<JsonNode> children = new ArrayList<>();
            n.elements().forEachRemaining(children::add);
            return children.stream().flatMap(OperatorCommandsTest::leaves);
        }
        return Stream.of(n);
    }

    private static Set<String> fileNames(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static void assertBashSyntax(Path script) throws Exception {
        Process p = new ProcessBuilder("bash", "-n", script.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bash -n " + script);
        assertEquals(0, p.exitValue(), script + ": " + out);
    }

    /**
     * Stand-ins for what runs on the servers: {@code python} for MindFormers' run_mindformer.py
     * (records its environment and arguments, then logs five steps as MFLossMonitor does in sink
     * mode: {@code v1.0.0:mindformers/core/callback/callback.py} lines 313-316, through the stdout
     * format of {@code v1.0.0:mindformers/tools/logger.py}), {@code java} for the servers' JVM,
     * and {@code ssh}, which the scripts call only to stop the other servers after a failure.
     */
    private static Path standIns() throws IOException {
        Path bin = dir.resolve("bin");
        if (Files.isDirectory(bin)) {
            return bin;
        }
        Files.createDirectories(bin);
        executable(bin.resolve("python"), """
                #!/usr/bin/env bash
                mkdir -p seen
                echo "DEVICE_ID=$DEVICE_ID RANK_ID=$RANK_ID RANK_SIZE=$RANK_SIZE RANK_TABLE_FILE=$RANK_TABLE_FILE args=$*" > "seen/$RANK_ID"
                losses=(2.000 1.900 1.800 1.700 1.600)
                for step in 1 2 3 4 5; do
                  printf '2026-11-25 09:21:0%d,000 - mindformers[mindformers/core/callback/callback.py:313] - INFO - { Epoch:[%3d/%3d], step:[%5d/%5d], loss: %5.3f, per_step_time: %dms, lr: %s, overflow cond: %s, loss_scale: %s\\n' \\
                    "$step" 1 2 "$step" 1000 "${losses[$((step - 1))]}" 1200 1e-05 False 65536.0
                done
                """);
        executable(bin.resolve("java"), """
                #!/usr/bin/env bash
                mkdir -p seen
                { echo "ASCENDJ_NODES=$ASCENDJ_NODES"; echo "ASCENDJ_NODE_RANK=$ASCENDJ_NODE_RANK"; echo "ASCENDJ_COORDINATOR=$ASCENDJ_COORDINATOR"
                  printf '%s\\n' "$@"; } > seen/node
                echo "node $ASCENDJ_NODE_RANK started"
                """);
        executable(bin.resolve("ssh"), "#!/usr/bin/env bash\necho \"$*\" >> \"" + bin.resolve("ssh-calls") + "\"\nexit 1\n");
        return bin;
    }

    private static void executable(Path f, String text) throws IOException {
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
    }

    /** Runs every server's script at once with bash, each in its own login directory {@code servers/HOST/}, as ssh HOST bash -s would. */
    private static void runServerScripts(Path scripts, Path servers, Path bin) throws Exception {
        List<Process> procs = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        try {
            for (int s = 0; s < SERVERS; s++) {
                String host = LabCluster.host(s);
                Path home = Files.createDirectories(servers.resolve(host));
                Path log = servers.resolve(host + ".out");
                ProcessBuilder pb = new ProcessBuilder("bash", "-s").directory(home.toFile()).redirectErrorStream(true)
                        .redirectInput(scripts.resolve("node" + s + "_" + host + ".sh").toFile()).redirectOutput(log.toFile());
                pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
                procs.add(pb.start());
                logs.add(log);
            }
            for (int s = 0; s < SERVERS; s++) {
                assertTrue(procs.get(s).waitFor(60, TimeUnit.SECONDS), "server script " + s + " did not finish");
                assertEquals(0, procs.get(s).exitValue(), Files.readString(logs.get(s)));
            }
        } finally {
            procs.forEach(Process::destroyForcibly);
        }
        assertFalse(Files.exists(bin.resolve("ssh-calls")), "no server was asked to stop");
    }

    private static List<Path> safetensorsIn(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    /** Every tensor's bytes in a Hugging Face model directory (all its shards). */
    private static Map<String, byte[]> tensors(Path d) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        for (Path f : safetensorsIn(d)) {
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                for (String n : sf.names()) {
                    ByteBuffer b = sf.bytes(n);
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    out.put(n, a);
                }
            }
        }
        return out;
    }

    private static Map<String, String> typesAndShapes(Path d) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (Path f : safetensorsIn(d)) {
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                for (TensorInfo t : sf.tensors()) {
                    out.put(t.name(), t.dtype() + Arrays.toString(t.dims()));
                }
            }
        }
        return out;
    }

    private static void assertSameTensors(Path expected, Path actual) throws IOException {
        assertEquals(typesAndShapes(expected), typesAndShapes(actual));
        Map<String, byte[]> a = tensors(expected);
        Map<String, byte[]> b = tensors(actual);
        for (Map.Entry<String, byte[]> e : a.entrySet()) {
            assertArrayEquals(e.getValue(), b.get(e.getKey()), e.getKey());
        }
    }

    /** Columns [part * cols / parts, (part + 1) * cols / parts) of a rows x cols matrix of 2-byte values, row by row. */
    private static byte[] columns(byte[] m, int rows, int from, int to, int bytes) {
        int cols = m.length / bytes / rows;
        byte[] out = new byte[rows * (to - from) * bytes];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(m, (r * cols + from) * bytes, out, r * (to - from) * bytes, (to - from) * bytes);
        }
        return out;
    }

    /**
     * Strategy files of {@code ranks} ranks for a device matrix [dp 2, tp 2] (tensor parallel last):
     * the column-parallel linears (wq, wk, wv, w1, w3, lm_head) split by rows, the row-parallel ones
     * (wo, w2) by columns, embedding and norms whole, as MindFormers' LLaMA shards them.
     */
    private static Path writeStrategies(Path d, Set<String> hfNames, int ranks) throws IOException {
        Map<String, StrategyFile.Layout> layouts = new LinkedHashMap<>();
        for (String hf : hfNames) {
            String ms = CheckpointConverter.toMindSpore(hf);
            List<Integer> map;
            if (ms.matches(".*\\.(wq|wk|wv|w1|w3)\\.weight") || ms.equals("lm_head.weight")) {
                map = List.of(0, -1);
            } else if (ms.matches(".*\\.(wo|w2)\\.weight")) {
                map = List.of(-1, 0);
            } else if (ms.contains("norm")) {
                map = List.of(-1);
            } else {
                map = List.of(-1, -1);
            }
            layouts.put(ms, StrategyFile.Layout.of(List.of(2, 2), map));
        }
        Files.createDirectories(d);
        for (int r = 0; r < ranks; r++) {
            Files.write(d.resolve("ckpt_strategy_rank_" + r + ".ckpt"), StrategyFile.encode(0, layouts));
        }
        return d;
    }
}
