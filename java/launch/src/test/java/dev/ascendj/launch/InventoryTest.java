package dev.ascendj.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.testkit.LabCluster;
import dev.ascendj.testkit.TestFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InventoryTest {

    @TempDir
    Path dir;

    private LaunchException fails(String yaml) {
        Path p = TestFiles.write(dir, "inv.yaml", yaml);
        return assertThrows(LaunchException.class, () -> Inventory.read(p));
    }

    private static final String ONE = "hardware: ascend-910a\nservers:\n  - host: 10.0.0.11\n    devices:\n";

    @Test
    void readsTheIssuesShapeAndIgnoresExtraFields() {
        Path p = TestFiles.write(dir, "inv.yaml", "servers:\n  - host: 10.0.0.11\n    hardware: ascend-910a\n    rack: B3\n"
                + "    devices:\n      - {id: 0, ip: 192.168.100.101}\n");
        Inventory inv = Inventory.read(p);
        assertEquals("ascend-910a", inv.hardware());
        assertEquals("192.168.100.101", inv.servers().get(0).devices().get(0).ip());
        assertEquals(1, inv.toCluster().deviceCount());
    }

    @Test
    void thePlannerReadsTheSameFileWithTheSameRulesIncludingSshFields() {
        Path p = TestFiles.write(dir, "inv.yaml", "name: lab\nhardware: ascend-910a\nuser: hpc\nservers:\n  - host: 10.0.0.11\n"
                + "    sshPort: 2222\n    rack: B3\n    devices:\n      - {id: 1, ip: 192.168.101.101}\n      - {id: 0, ip: 192.168.100.101}\n");
        dev.ascendj.plan.ClusterSpec planned = dev.ascendj.plan.ClusterSpec.parse(p.toString());
        Inventory inv = Inventory.read(p);
        assertEquals("hpc", planned.user());
        assertEquals(2222, planned.servers().get(0).sshPort());
        assertEquals(planned, inv.toCluster());
        assertEquals(2222, inv.servers().get(0).sshPort());
        assertEquals(List.of(0, 1), inv.servers().get(0).devices().stream().map(Inventory.Device::id).toList());
        LaunchException port = fails(LabCluster.inventoryYaml(1, 1).replace("  - host: 10.0.0.11\n", "  - host: 10.0.0.11\n    sshPort: 70000\n"));
        assertTrue(port.getMessage().endsWith("servers[0].sshPort: 70000 is not a port number (1-65535)"), port.getMessage());
    }

    @Test
    void duplicateDeviceIps() {
        LaunchException e = fails(LabCluster.inventoryYaml(2, 8).replace("192.168.100.102", "192.168.100.101"));
        assertTrue(e.getMessage().endsWith("servers[1].devices[0].ip: address 192.168.100.101 is already used by servers[0].devices[0].ip"),
                e.getMessage());
    }

    @Test
    void deviceIdsOutside0To7() {
        LaunchException e = fails(ONE + "      - {id: 8, ip: 192.168.100.101}\n");
        assertTrue(e.getMessage().endsWith("servers[0].devices[0].id: 8 is not a device of an ascend-910a server (0..7)"), e.getMessage());
        e = fails(ONE + "      - {id: -1, ip: 192.168.100.101}\n");
        assertTrue(e.getMessage().contains("servers[0].devices[0].id: must not be negative, got -1"), e.getMessage());
    }

    @Test
    void serversWithDifferentNpuCounts() {
        String y = LabCluster.inventoryYaml(2, 8);
        y = y.substring(0, y.lastIndexOf("      - {id: 4")); // second server keeps NPUs 0-3
        LaunchException e = fails(y);
        assertTrue(e.getMessage().endsWith("servers[1].devices: 4 devices, but servers[0] has 8; every server must contribute the same number of devices"),
                e.getMessage());
    }

    @Test
    void nineTenAGroupsMayNotSpanTheHccsGroups() {
        LaunchException e = fails(ONE + "      - {id: 2, ip: 192.168.100.101}\n      - {id: 5, ip: 192.168.101.101}\n");
        assertTrue(e.getMessage().endsWith("servers[0].devices: the 2 devices of 10.0.0.11 (ids 2,5) span ascend-910a groups of 4 (0-3, 4-7, ...); "
                + "use devices of one group"), e.getMessage());
        e = fails(ONE + "      - {id: 0, ip: 192.168.100.101}\n      - {id: 1, ip: 192.168.101.101}\n      - {id: 2, ip: 192.168.102.101}\n");
        assertTrue(e.getMessage().contains("servers[0].devices: 3 devices on 10.0.0.11; an ascend-910a server takes part with 8 devices or with 1, 2, ... 4 of one group of 4"), e.getMessage());
        // The upper group alone is fine, and the 910B has no such restriction.
        Inventory.read(TestFiles.write(dir, "ok.yaml", ONE + "      - {id: 4, ip: 192.168.100.101}\n      - {id: 5, ip: 192.168.101.101}\n"));
        Inventory.read(TestFiles.write(dir, "b.yaml", ONE.replace("910a", "910b")
                + "      - {id: 2, ip: 192.168.100.101}\n      - {id: 5, ip: 192.168.101.101}\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.168.100.256", "192.168.100", "192.168.100.01", "1.2.3.4.5", "192.168.100.1; reboot", "$(id)"})
    void malformedDeviceIps(String ip) {
        LaunchException e = fails(ONE + "      - {id: 0, ip: '" + ip + "'}\n");
        assertTrue(e.getMessage().endsWith("servers[0].devices[0].ip: '" + ip + "' is not an IPv4 address"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.300", "host;rm -rf /", "a b", "$(reboot)", "`id`", "-oProxyCommand=x", "x|y", "h&", "h>f",
        "'q'", "\\\\n", "host\\u0000"})
    void hostileHostsAreRejected(String host) {
        LaunchException e = fails("hardware: ascend-910a\nservers:\n  - host: \"" + host + "\"\n    devices:\n      - {id: 0, ip: 192.168.100.101}\n");
        assertTrue(e.getMessage().contains("servers[0].host:"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"root;id", "Root", "a b", "-l", "$USER"})
    void hostileUsersAreRejected(String user) {
        LaunchException e = fails("user: \"" + user + "\"\n" + ONE + "      - {id: 0, ip: 192.168.100.101}\n");
        assertTrue(e.getMessage().contains("user: '"), e.getMessage());
    }

    @Test
    void duplicateHostsAndDeviceIds() {
        LaunchException e = fails(LabCluster.inventoryYaml(2, 1).replace("10.0.0.12", "10.0.0.11"));
        assertTrue(e.getMessage().endsWith("servers[1].host: host 10.0.0.11 is listed twice"), e.getMessage());
        e = fails(ONE + "      - {id: 0, ip: 192.168.100.101}\n      - {id: 0, ip: 192.168.101.101}\n");
        assertTrue(e.getMessage().endsWith("servers[0].devices[1].id: device 0 is listed twice"), e.getMessage());
    }

    @Test
    void missingDeviceIpNamesTheCommandThatGivesIt() {
        LaunchException e = fails(ONE + "      - {id: 3}\n");
        assertTrue(e.getMessage().contains("servers[0].devices[0].ip: missing; the rank table needs every NPU's NIC address "
                + "(hccn_tool -i 3 -ip -g on 10.0.0.11)"), e.getMessage());
    }

    @Test
    void fromHccnToolAndHccnConf() {
        String conf = "# hccn.conf\naddress_0=192.168.100.101\nnetmask_0=255.255.255.0\naddress_1=192.168.101.101\n"
                + "netmask_1=255.255.255.0\ngateway_1=192.168.101.1\n";
        Map<Integer, String> a = Inventory.parseHccnConf(conf, "hccn.conf");
        assertEquals(Map.of(0, "192.168.100.101", 1, "192.168.101.101"), a);
        String tool = "ipaddr:192.168.100.102\nnetmask:255.255.255.0\n";
        assertEquals("192.168.100.102", Inventory.parseHccnToolIp(tool, "out"));
        Map<String, Map<Integer, String>> byHost = new LinkedHashMap<>();
        byHost.put("10.0.0.11", a);
        byHost.put("10.0.0.12", Map.of(0, "192.168.100.102", 1, "192.168.101.102"));
        Inventory inv = Inventory.fromHccn(null, "ascend-910a", byHost);
        assertEquals("10.0.0.12", inv.servers().get(1).host());
        assertEquals(2, inv.devicesPerServer());
        byHost.put("10.0.0.13", Map.of(0, "192.168.100.101", 1, "192.168.101.103"));
        LaunchException e = assertThrows(LaunchException.class, () -> Inventory.fromHccn(null, "ascend-910a", byHost));
        assertTrue(e.getMessage().contains("address 192.168.100.101 is already used by servers[0].devices[0].ip"), e.getMessage());
        assertThrows(LaunchException.class, () -> Inventory.parseHccnConf("nothing here\n", "x"));
        assertThrows(LaunchException.class, () -> Inventory.parseHccnToolIp("error: device 9 not found\n", "x"));
    }
}
