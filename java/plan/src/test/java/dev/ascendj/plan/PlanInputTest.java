package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.io.JsonYamlWriter;
import dev.ascendj.core.io.StrictReader.Syntax;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Cluster, job and hardware inputs: formats, defaults and hostile input with field-naming errors. */
class PlanInputTest {

    private static final String INVENTORY = """
            name: lab
            hardware: ascend-910a
            servers:
              - host: 10.0.0.1
                devices:
                  - {id: 0, ip: 192.168.100.101}
                  - {id: 1, ip: 192.168.101.101}
              - host: 10.0.0.2
                devices:
                  - {id: 1, ip: 192.168.101.102}
                  - {id: 0, ip: 192.168.100.102}
            """;

    private static ClusterSpec cluster(String yaml) {
        return PlanInputs.bind(PlanInputs.parseTree(yaml, Syntax.YAML, "cluster.yaml"), ClusterSpec.class, "cluster.yaml");
    }

    private static PlanException clusterError(String yaml) {
        return assertThrows(PlanException.class, () -> cluster(yaml).resolveHardware(TestCatalogs.catalog()));
    }

    @Test
    void shorthandsNameServersDevicesAndHardware() {
        ClusterSpec c = ClusterSpec.parse("4x8-910a");
        assertEquals(4, c.serverCount());
        assertEquals(32, c.deviceCount());
        assertEquals("ascend-910a", c.hardware());
        assertEquals("ascend-910b", ClusterSpec.parse("1x8-910b").hardware());
        assertEquals("cpu", ClusterSpec.parse("1x8-cpu").hardware());
        assertEquals(List.of(0, 1, 2, 3), ClusterSpec.parse("2x4-910a").servers().get(1).devices().stream().map(DeviceSpec::id).toList());
    }

    @Test
    void readsAnInventoryFileAndSortsDevices(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("cluster.yaml");
        Files.writeString(f, INVENTORY);
        ClusterSpec c = ClusterSpec.parse(f.toString());
        assertEquals("lab", c.name());
        assertEquals(0, c.servers().get(1).devices().get(0).id());
        assertEquals("192.168.100.102", c.servers().get(1).devices().get(0).ip());
        assertEquals(TestCatalogs.catalog().profile("ascend-910a"), c.resolveHardware(TestCatalogs.catalog()));
        Path json = dir.resolve("cluster.json");
        Files.writeString(json, JsonYamlWriter.toJson(c));
        assertEquals(c, ClusterSpec.parse(json.toString()));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "zero servers          | 0x8-910a           | 0 servers; a cluster needs at least one",
        "zero devices          | 4x0-910a           | 0 devices per server; a server needs at least one",
        "unknown hardware      | 4x8-h100           | hardware: unknown hardware profile 'h100' (known: ascend-910a, ascend-910b, cpu)",
        "too many devices      | 1x16-910a          | servers[0].devices: 16 devices, but an ascend-910a server has 8",
        "absurd size           | 99999x99999-910a   | devices is more than the supported 65536",
        "neither               | four-by-eight      | is neither a shorthand SERVERSxDEVICES-HARDWARE",
        "negative              | -1x8-910a          | is neither a shorthand"})
    void badShorthandsSayWhatIsWrong(String name, String spec, String expected) {
        PlanException e = assertThrows(PlanException.class, () -> ClusterSpec.parse(spec).resolveHardware(TestCatalogs.catalog()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "duplicate device    | {id: 1, ip: 192.168.101.101}      | {id: 0, ip: 192.168.101.101}   | cluster.yaml: servers[0].devices[1].id: device 0 is listed twice",
        "duplicate ip        | {id: 1, ip: 192.168.101.102}      | {id: 1, ip: 192.168.100.101}   | servers[1].devices[1].ip: address 192.168.100.101 is already used by servers[0].devices[0].ip",
        "bad ip              | ip: 192.168.100.101}              | ip: 300.1.1.1}                 | servers[0].devices[0].ip: '300.1.1.1' is not an IPv4 address",
        "negative id         | {id: 1, ip: 192.168.101.101}      | {id: -1, ip: 192.168.101.101}  | servers[0].devices[1].id: must not be negative, got -1",
        "id beyond server    | {id: 1, ip: 192.168.101.101}      | {id: 9, ip: 192.168.101.101}   | servers[0].devices[1].id: 9 is not a device of an ascend-910a server (0..7)",
        "string for id       | {id: 1, ip: 192.168.101.101}      | {id: '1', ip: 192.168.101.101} | servers[0].devices[1].id",
        "float for id        | {id: 1, ip: 192.168.101.101}      | {id: 1.5, ip: 192.168.101.101} | servers[0].devices[1].id",
        "unknown field       | name: lab                         | name: lab\\nnodes: 4           | nodes: unknown field",
        "duplicate host      | host: 10.0.0.2                    | host: 10.0.0.1                 | servers[1].host: host 10.0.0.1 is listed twice",
        "uneven servers      | - {id: 0, ip: 192.168.100.102}    |                                | servers[1].devices: 1 devices, but servers[0] has 2",
        "mixed hardware      | host: 10.0.0.2                    | host: 10.0.0.2\\n    hardware: ascend-910b | servers[1].hardware: 'ascend-910b' differs from servers[0]'s 'ascend-910a'",
        "unknown hardware    | hardware: ascend-910a             | hardware: tpu-v5               | unknown hardware profile 'tpu-v5'",
        "no hardware         | hardware: ascend-910a             | owner: x                       | servers[0].hardware: missing"})
    void badInventoriesNameFileFieldAndProblem(String name, String from, String to, String expected) {
        String yaml = INVENTORY.replace(from.replace("\\n", "\n"), to == null ? "" : to.replace("\\n", "\n"));
        PlanException e = clusterError(yaml);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void emptyAndMalformedInventories() {
        assertTrue(clusterError("servers: []").getMessage().contains("servers: a cluster needs at least one server"));
        assertTrue(clusterError("hardware: cpu\nservers:\n  - {host: a, devices: []}").getMessage()
                .contains("servers[0].devices: a server needs at least one device"));
        PlanException truncated = assertThrows(PlanException.class, () -> PlanInputs.parseTree("servers: [ {host: a, devices: [0, 1", Syntax.YAML, "c.yaml"));
        assertTrue(truncated.getMessage().startsWith("c.yaml: not valid YAML"), truncated.getMessage());
        assertThrows(PlanException.class, () -> PlanInputs.parseTree("", Syntax.YAML, "c.yaml"));
        assertTrue(clusterError("hardware: cpu\nservers: 4").getMessage().contains("servers"));
    }

    @Test
    void specFilesThatAreMissingOrHugeAreRefused(@TempDir Path dir) throws IOException {
        PlanException missing = assertThrows(PlanException.class, () -> PlanInputs.readTree(dir.resolve("none.yaml")));
        assertTrue(missing.getMessage().endsWith("none.yaml: no such file"), missing.getMessage());
        Path big = dir.resolve("big.yaml");
        Files.write(big, new byte[(int) PlanInputs.MAX_INPUT_BYTES + 1]);
        assertTrue(assertThrows(PlanException.class, () -> PlanInputs.readTree(big)).getMessage().contains("spec is " + (PlanInputs.MAX_INPUT_BYTES + 1) + " bytes, more than the limit of " + PlanInputs.MAX_INPUT_BYTES));
    }

    @Test
    void repeatedKeysAndNonFiniteNumbersInASpecAreRefusedWithFileAndField(@TempDir Path dir) throws IOException {
        Path dup = Files.writeString(dir.resolve("job.yaml"), "seqLen: 2048\nglobalBatch: 64\nseqLen: 4096\n");
        PlanException e = assertThrows(PlanException.class, () -> JobSpec.read(dup));
        assertEquals(dup.toString(), e.source());
        assertTrue(e.problem().contains("key 'seqLen' appears twice (line 3"), e.getMessage());
        Path inf = Files.writeString(dir.resolve("hw.json"), "{\"name\": \"x\", \"memory\": {\"capacityBytes\": 1e999}}");
        e = assertThrows(PlanException.class, () -> PlanInputs.readTree(inf));
        assertEquals("memory.capacityBytes", e.field());
        assertEquals(inf + ": memory.capacityBytes: Infinity is not a finite number", e.getMessage());
    }

    @Test
    void jobFilesAndDefaults(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("job.yaml");
        Files.writeString(f, "method: lora\nseqLen: 4096\nglobalBatchTokens: 1048576\nprecision: fp16\n");
        JobSpec j = JobSpec.read(f);
        assertEquals(Method.LORA, j.method());
        assertEquals(16, j.loraRank());
        assertEquals(16, j.loraAlpha());
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj"), j.loraTargets());
        assertEquals(256, j.sequences());
        assertEquals(Optimizer.ADAMW, j.optimizer());
        JobSpec full = new JobSpec(null, null, null, null, 2048, 512L, null, null, null);
        assertEquals(Method.FULL, full.method());
        assertNull(full.loraRank());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "negative seq          | seqLen: -1\\nglobalBatch: 8                      | seqLen: must lie in [1, 1048576], got -1",
        "zero batch            | seqLen: 2048\\nglobalBatch: 0                    | globalBatch: must lie in [1,",
        "both batches          | seqLen: 2048\\nglobalBatch: 8\\nglobalBatchTokens: 16384 | give either globalBatch (sequences) or globalBatchTokens, not both",
        "no batch              | seqLen: 2048                                     | globalBatch: missing",
        "ragged tokens         | seqLen: 2048\\nglobalBatchTokens: 1000           | globalBatchTokens: 1000 tokens is not a whole number of 2048-token sequences",
        "missing seq           | globalBatch: 8                                   | seqLen: missing",
        "bad method            | method: prefix\\nseqLen: 8\\nglobalBatch: 8      | method: 'prefix' is not one of full, lora, qlora",
        "bad precision         | precision: int8\\nseqLen: 8\\nglobalBatch: 8     | precision: 'int8' is not one of fp16, bf16, fp32",
        "rank with full        | loraRank: 8\\nseqLen: 8\\nglobalBatch: 8         | loraRank: applies to method lora or qlora, not full",
        "zero rank             | method: lora\\nloraRank: 0\\nseqLen: 8\\nglobalBatch: 8 | loraRank: must be at least 1, got 0",
        "bad target            | method: lora\\nloraTargets: [lm_head]\\nseqLen: 8\\nglobalBatch: 8 | loraTargets[0]: 'lm_head' is not a linear layer of LLaMA",
        "twice target          | method: qlora\\nloraTargets: [q_proj, q_proj]\\nseqLen: 8\\nglobalBatch: 8 | loraTargets[1]: 'q_proj' is listed twice",
        "typo                  | seqLen: 8\\nglobalBatch: 8\\nglobalbatch: 8      | globalbatch: unknown field",
        "string number         | seqLen: '2048'\\nglobalBatch: 8                  | seqLen"})
    void badJobsNameTheField(String name, String yaml, String expected) {
        PlanException e = assertThrows(PlanException.class,
                () -> PlanInputs.bind(PlanInputs.parseTree(yaml.replace("\\n", "\n"), Syntax.YAML, "job.yaml"), JobSpec.class, "job.yaml"));
        assertTrue(e.getMessage().startsWith("job.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"512, 512, -1", "1048576t, -1, 1048576", "1Mt, -1, 1048576", "512Kt, -1, 524288", "2048tokens, -1, 2048"})
    void parsesGlobalBatchInSequencesOrTokens(String text, long sequences, long tokens) {
        Long[] r = JobSpec.parseGlobalBatch(text);
        assertEquals(sequences < 0 ? null : sequences, r[0]);
        assertEquals(tokens < 0 ? null : tokens, r[1]);
    }

    @ParameterizedTest
    @CsvSource({"0", "-5", "lots", "1M", "''", "99999999999999999999t"})
    void rejectsBadGlobalBatches(String text) {
        assertThrows(PlanException.class, () -> JobSpec.parseGlobalBatch(text));
    }

    @Test
    void builtInProfilesCarryTheReferenceFigures() {
        HardwareCatalog c = TestCatalogs.catalog();
        HardwareProfile a = c.profile("ascend-910a");
        assertEquals(256e12, a.peakFlops(Precision.FP16));
        assertTrue(!a.supports(Precision.BF16));
        assertEquals(32L << 30, a.memory().capacityBytes());
        assertEquals(31L << 30, a.memory().usableBytes());
        assertEquals(4, a.topology().groupSize());
        assertEquals(java.util.EnumSet.allOf(FusedOp.class), a.missingFusedOpSet());
        HardwareProfile b = c.profile("ascend-910b");
        assertTrue(b.supports(Precision.BF16));
        assertEquals(8, b.topology().groupSize());
        assertTrue(b.missingFusedOps().isEmpty());
        assertEquals(List.of("ascend-910a", "ascend-910b", "cpu"), c.names());
    }

    @Test
    void userFilesOverrideAndExtendProfiles(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("hw.yaml");
        Files.writeString(f, """
                profiles:
                  - name: ascend-910a
                    memory: {usableBytes: 30064771072}
                  - name: ascend-910b3
                    base: ascend-910b
                    compute: {peakFlops: {fp16: 295.0e12, bf16: 295.0e12}}
                  - name: my-cpu
                    base: cpu
                    compute: {peakFlops: {fp32: 1.0e12}}
                """);
        HardwareCatalog c = TestCatalogs.catalog().withUserFile(f);
        assertEquals(28L << 30, c.profile("ascend-910a").memory().usableBytes());
        assertEquals(256e12, c.profile("ascend-910a").peakFlops(Precision.FP16));
        assertEquals(295e12, c.profile("ascend-910b3").peakFlops(Precision.BF16));
        assertEquals(8, c.profile("ascend-910b3").topology().groupSize());
        // A profile based on the CPU starts from the measurement, then applies the user's figures.
        HardwareProfile mine = c.profile("my-cpu");
        assertEquals(1e12, mine.peakFlops(Precision.FP32));
        assertEquals(16L << 30, mine.memory().capacityBytes());
        assertEquals("my-cpu", mine.name());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "efficiency above one  | {name: ascend-910a, topology: {intraGroup: {efficiency: 1.5}}}           | topology.intraGroup.efficiency: must lie in (0, 1], got 1.5",
        "usable above capacity | {name: ascend-910a, memory: {usableBytes: 99999999999999}}              | memory.usableBytes: must lie in (0, capacityBytes",
        "unknown base          | {name: x, base: ascend-920}                                             | base: 'ascend-920' is not a known profile",
        "no name               | {memory: {usableBytes: 1}}                                              | name: missing",
        "bad fused op          | {name: ascend-910a, missingFusedOps: [softmax]}                         | 'softmax' is not one of rms-norm, swiglu, rope, flash-attention, cross-entropy, adamw",
        "curve not increasing  | {name: ascend-910a, compute: {matrixEfficiencyByGflop: [{atLeast: 4, efficiency: 0.5}, {atLeast: 1, efficiency: 0.6}]}} | compute.matrixEfficiencyByGflop[1].atLeast: sizes must increase",
        "negative flops        | {name: ascend-910a, compute: {peakFlops: {fp16: -1}}}                   | compute.peakFlops.fp16: must be a positive finite FLOP/s figure",
        "bad precision key     | {name: ascend-910a, compute: {peakFlops: {fp8: 1.0e15}}}               | 'fp8' is not one of fp16, bf16, fp32",
        "typo                  | {name: ascend-910a, memroy: {}}                                          | memroy: unknown field",
        "group not dividing    | {name: ascend-910a, topology: {groupSize: 3}}                            | topology.groupSize: must be positive and divide devicesPerServer 8, got 3",
        "new without fields    | {name: brand-new}                                                        | missing"})
    void badUserProfilesNameTheField(String name, String yaml, String expected) {
        PlanException e = assertThrows(PlanException.class,
                () -> TestCatalogs.catalog().withUserProfiles(PlanInputs.parseTree(yaml, Syntax.YAML, "hw.yaml"), "hw.yaml"));
        assertTrue(e.getMessage().startsWith("hw.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void efficiencyCurvesInterpolateInLogSize() {
        EfficiencyCurve c = EfficiencyCurve.of(0, 0.1, 1, 0.6, 16, 0.9, 128, 0.95);
        assertEquals(0.1, c.at(0), 1e-12);
        assertEquals(0.6, c.at(1), 1e-12);
        assertEquals(0.75, c.at(4), 1e-12);     // halfway between 1 and 16 in log scale
        assertEquals(0.95, c.at(1e6), 1e-12);
        double prev = 0;
        for (double x = 1e-4; x < 1e4; x *= 1.3) {
            assertTrue(c.at(x) >= prev - 1e-12);
            prev = c.at(x);
        }
    }
}
