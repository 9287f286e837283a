package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.plan.Plan;
import dev.ascendj.plan.RankAssignment;
import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import dev.ascendj.testkit.TestPlans;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RankTableBuilderTest {

    @TempDir
    Path dir;

    @Test
    void rankTableMatchesGoldenFile() {
        Inventory inv = Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 8)));
        RankTable t = RankTableBuilder.build(inv, TestPlans.twoByEight());
        GoldenFiles.assertGolden("hccl_2s_16p.json", RankTableBuilder.toJson(t));
    }

    @Test
    void everyRankIdFollowsThePlansRankMap() {
        Plan plan = TestPlans.twoByEight();
        Inventory inv = Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 8)));
        RankTable t = RankTableBuilder.build(inv, plan);
        Map<String, String> rankByServerDevice = new HashMap<>();
        for (RankTable.Server s : t.serverList()) {
            for (RankTable.Device d : s.device()) {
                rankByServerDevice.put(s.serverId() + "/" + d.deviceId(), d.rankId());
            }
        }
        assertEquals(16, rankByServerDevice.size());
        for (RankAssignment r : plan.ranks()) {
            String host = inv.servers().get(r.server()).host();
            assertEquals(String.valueOf(r.rank()), rankByServerDevice.get(host + "/" + r.deviceId()), "rank " + r.rank());
        }
        assertEquals("2", t.serverCount());
        assertEquals("completed", t.status());
        assertEquals("1.0", t.version());
    }

    @Test
    void allValuesAreStringsAndTheTableReadsBack() throws Exception {
        Inventory inv = Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 8)));
        RankTable t = RankTableBuilder.build(inv, TestPlans.twoByEight());
        Path f = dir.resolve("out/hccl.json");
        RankTableBuilder.write(t, f);
        assertEquals(t, RankTableBuilder.read(f));
        String json = Files.readString(f);
        assertTrue(!json.matches("(?s).*:\\s*\\d.*"), "a bare number in " + json);
        Path bad = TestFiles.write(dir, "bad.json", json.replace("\"server_count\" : \"2\"", "\"server_count\" : 2"));
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.read(bad));
        assertTrue(e.getMessage().contains("server_count: 2 must be a string"), e.getMessage());
    }

    @Test
    void serverCountMustMatchThePlan() {
        Inventory inv = Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(3, 8)));
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.build(inv, TestPlans.twoByEight(), "c.yaml"));
        assertEquals("c.yaml: 3 servers, but the plan is for 2 (16 devices: dp 4 x tp 1 x pp 4)", e.getMessage());
    }

    @Test
    void npuCountMustMatchThePlan() {
        Inventory inv = Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 4)));
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.build(inv, TestPlans.twoByEight(), "c.yaml"));
        assertEquals("c.yaml: 4 NPUs per server, but the plan uses 8 per server", e.getMessage());
    }

    @Test
    void planMadeFromAnInventoryMustListTheSameHosts() {
        Inventory inv = Inventory.read(TestFiles.write(dir, "c.yaml", LabCluster.inventoryYaml(2, 8)));
        Plan plan = TestPlans.fixed(inv.toCluster(), 4, 1, 4, 1, 16, dev.ascendj.plan.Recompute.SELECTIVE);
        assertEquals(16, RankTableBuilder.build(inv, plan).rankCount());
        Inventory swapped = new Inventory(inv.name(), inv.hardware(), null, List.of(inv.servers().get(1), inv.servers().get(0)));
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.build(swapped, plan, "c.yaml"));
        assertTrue(e.getMessage().startsWith("c.yaml: servers[0].host is 10.0.0.12, but the plan's server 0 is 10.0.0.11"), e.getMessage());
    }

    @Test
    void mergeRenumbersRanksInArgumentOrderLikeMergeHccl() {
        RankTable a = RankTableBuilder.parse(LabCluster.singleServerTable("10.0.0.12", 101), "a");
        RankTable b = RankTableBuilder.parse(LabCluster.singleServerTable("10.0.0.11", 102), "b");
        RankTable m = RankTableBuilder.merge(List.of(a, b));
        assertEquals("2", m.serverCount());
        assertEquals("10.0.0.12", m.serverList().get(0).serverId());
        assertEquals("0", m.serverList().get(0).device().get(0).rankId());
        assertEquals("8", m.serverList().get(1).device().get(0).rankId());
        assertEquals("15", m.serverList().get(1).device().get(7).rankId());
        assertEquals("hccl_2s_16p.json", RankTableBuilder.mergedFileName(m));
        GoldenFiles.assertGolden("merged_2s_16p.json", RankTableBuilder.toJson(m));
    }

    @Test
    void mergeRefusesDuplicateDeviceIps() {
        RankTable a = RankTableBuilder.parse(LabCluster.singleServerTable("10.0.0.11", 101), "a");
        RankTable b = RankTableBuilder.parse(LabCluster.singleServerTable("10.0.0.12", 101), "b");
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.merge(List.of(a, b)));
        assertTrue(e.getMessage().contains("server_list[1].device[0].device_ip: 192.168.100.101 is already server_list[0].device[0]"),
                e.getMessage());
    }

    @Test
    void tableChecksNameTheField() {
        String ok = LabCluster.singleServerTable("10.0.0.11", 101);
        assertMessage(ok.replace("\"completed\"", "\"initializing\""), "status: 'initializing'; HCCL needs \"completed\"");
        assertMessage(ok.replace("\"device_id\": \"7\"", "\"device_id\": \"9\""), "device_id: 9 is outside 0-7");
        assertMessage(ok.replace("\"rank_id\": \"7\"", "\"rank_id\": \"6\""), "rank_id: rank 6 appears twice");
        assertMessage(ok.replace("\"server_count\": \"1\"", "\"server_count\": \"2\""), "server_count: '2' but server_list has 1 servers");
        assertMessage(ok.replace("192.168.103.101", "192.168.103.301"), "device_ip: '192.168.103.301' is not an IPv4 address");
    }

    private static void assertMessage(String json, String expected) {
        LaunchException e = assertThrows(LaunchException.class, () -> RankTableBuilder.parse(json, "t.json"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
