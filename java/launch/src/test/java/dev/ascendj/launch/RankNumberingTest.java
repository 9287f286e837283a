package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.model.LlamaConfigs;
import dev.ascendj.plan.ClusterSpec;
import dev.ascendj.plan.FixedDegrees;
import dev.ascendj.plan.HardwareCatalog;
import dev.ascendj.plan.JobSpec;
import dev.ascendj.plan.Method;
import dev.ascendj.plan.Placement;
import dev.ascendj.plan.Plan;
import dev.ascendj.plan.PlanRequest;
import dev.ascendj.plan.Planner;
import dev.ascendj.plan.SearchResult;
import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HCCL forbids rank ids interleaved across servers (rank_table_config_910.md): every plan the
 * planner can emit for Ascend must give each server one contiguous block of ranks, and the rank
 * table and the launch scripts must number the ranks the same way.
 */
class RankNumberingTest {

    @TempDir
    Path dir;

    @Test
    void everyPlanTheSearchEmitsForAscendGivesEachServerAContiguousBlockAndScriptsAgreeWithTheTable() {
        Planner planner = new Planner(HardwareCatalog.builtIn());
        int plans = 0;
        int replicaMajorSeen = 0;
        java.util.Set<String> maps = new java.util.HashSet<>();
        for (String cluster : List.of("4x8-910a", "2x4-910a", "4x2-910a", "4x8-910b")) {
            ClusterSpec c = ClusterSpec.parse(cluster);
            Inventory inv = Inventory.read(TestFiles.write(dir, cluster + ".yaml", LabCluster.inventoryYaml(c.serverCount(), c.devicesPerServer())
                    .replace("ascend-910a", c.hardware())));
            for (Method m : List.of(Method.LORA, Method.FULL)) {
                for (long seqs : List.of(256L)) {
                    JobSpec job = new JobSpec(m, m == Method.LORA ? 16 : null, null, null, 2048, seqs, null, null, null);
                    SearchResult r = planner.plan(new PlanRequest("llama2-7b", LlamaConfigs.preset("llama2-7b"), c, job), FixedDegrees.NONE,
                            100_000);
                    List<Plan> all = new ArrayList<>(r.plans());
                    if (r.leanest() != null) {
                        all.add(r.leanest());
                    }
                    for (Plan p : all) {
                        plans++;
                        // The rank map depends on the degrees and the placement only: check each once.
                        if (!maps.add(cluster + " " + p.dp() + "/" + p.tp() + "/" + p.pp() + " " + p.placement())) {
                            continue;
                        }
                        if (p.placement() == Placement.REPLICA_MAJOR) {
                            replicaMajorSeen++;
                        }
                        RankTable t = RankTableBuilder.build(inv, p);
                        Map<String, String> scripts = LaunchScripts.generate(inv, p, "seed: 0\n", LaunchScripts.Launcher.RANKTABLE,
                                LaunchScripts.Options.defaults("/data/job", "/opt/mindformers"));
                        for (int s = 0; s < c.serverCount(); s++) {
                            Map<Integer, Integer> fromTable = new TreeMap<>();
                            int lo = Integer.MAX_VALUE;
                            int hi = -1;
                            for (RankTable.Device d : t.serverList().get(s).device()) {
                                int rank = Integer.parseInt(d.rankId());
                                fromTable.put(rank, Integer.parseInt(d.deviceId()));
                                lo = Math.min(lo, rank);
                                hi = Math.max(hi, rank);
                            }
                            assertEquals(c.devicesPerServer(), hi - lo + 1, cluster + " " + p.layout() + ": server " + s + " ranks " + fromTable);
                            Map<Integer, Integer> fromScript = new TreeMap<>();
                            String script = scripts.get("node" + s + "_" + inv.servers().get(s).host() + ".sh");
                            for (int[] dr : LaunchScriptsTest.startedRanks(script)) {
                                fromScript.put(dr[1], dr[0]);
                            }
                            assertEquals(fromTable, fromScript, cluster + " " + p.layout() + ": server " + s);
                        }
                    }
                }
            }
        }
        assertTrue(plans > 100 && maps.size() > 20, "plans: " + plans + ", rank maps: " + maps.size());
        assertEquals(0, replicaMajorSeen, "a replica-major plan interleaving servers was emitted");
    }

    @Test
    void aSavedPlanWhoseRanksInterleaveServersIsRefusedByTheRankTable() {
        String table = "{\"version\": \"1.0\", \"server_count\": \"2\", \"server_list\": ["
                + "{\"server_id\": \"10.0.0.11\", \"device\": [{\"device_id\": \"0\", \"device_ip\": \"192.168.100.1\", \"rank_id\": \"0\"},"
                + " {\"device_id\": \"1\", \"device_ip\": \"192.168.101.1\", \"rank_id\": \"2\"}], \"host_nic_ip\": \"reserve\"},"
                + "{\"server_id\": \"10.0.0.12\", \"device\": [{\"device_id\": \"0\", \"device_ip\": \"192.168.100.2\", \"rank_id\": \"1\"},"
                + " {\"device_id\": \"1\", \"device_ip\": \"192.168.101.2\", \"rank_id\": \"3\"}], \"host_nic_ip\": \"reserve\"}],"
                + " \"status\": \"completed\"}";
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.parse(table, "hccl.json"));
        assertTrue(e.getMessage().contains("hccl.json: server_list[0] (10.0.0.11) holds ranks 0..2 with gaps"), e.getMessage());
    }

    @Test
    void theCpuEngineMayStillPlaceReplicasTogether() {
        // Threads of one JVM have no rank table: replica-major stays available off Ascend.
        JobSpec job = JobSpec.full(256, 64L);
        SearchResult r = new Planner(HardwareCatalog.builtIn()).plan(new PlanRequest("llama2-15m", LlamaConfigs.preset("llama2-15m"),
                ClusterSpec.parse("2x4-cpu"), job), new FixedDegrees(4, 1, 2, null, null, null, null, null), 100_000);
        assertFalse(r.plans().isEmpty());
    }
}
