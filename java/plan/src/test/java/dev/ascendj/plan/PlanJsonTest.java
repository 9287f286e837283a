package dev.ascendj.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.io.StrictReader.Syntax;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Plan as a JSON file: round trip, the names scripts depend on, and tampered files. */
class PlanJsonTest {

    private static Plan sevenB;

    static synchronized Plan sevenB() {
        if (sevenB == null) {
            sevenB = Fixtures.search(Fixtures.request("llama2-7b", "4x8-910a", Fixtures.full(2048, 512)), FixedDegrees.NONE, 1).best().orElseThrow();
        }
        return sevenB;
    }

    @Test
    void roundTripsThroughJson() {
        Plan p = sevenB();
        Plan back = Plan.fromJson(p.toJson(), "plan.json");
        assertEquals(p, back);
        assertEquals(p.toJson(), back.toJson());
        Plan lora = Fixtures.search(Fixtures.request("llama2-70b", "4x8-910a", Fixtures.lora(2048, 512, 8)), FixedDegrees.NONE, 1).best().orElseThrow();
        assertEquals(lora, Plan.fromJson(lora.toJson(), "lora.json"));
        Plan cpu = Fixtures.search(Fixtures.request("llama2-15m", "1x8-cpu", Fixtures.full(256, 64)), FixedDegrees.NONE, 1).best().orElseThrow();
        assertEquals(cpu, Plan.fromJson(cpu.toJson(), "cpu.json"));
    }

    @Test
    void carriesTheFieldNamesScriptsDependOn() {
        JsonNode n = PlanInputs.parseTree(sevenB().toJson(), Syntax.JSON, "plan.json");
        for (String f : List.of("dp", "tp", "pp", "microBatchSize", "microBatches", "recompute", "optimizerShard", "memoryPerDeviceBytes",
                "tokensPerSecondPerDevice", "stepSeconds", "mfu")) {
            assertTrue(n.has(f), f);
        }
        assertTrue(n.get("dp").isInt() && n.get("memoryPerDeviceBytes").isIntegralNumber() && n.get("mfu").isDouble());
        assertTrue(Stream.of("none", "selective", "full").anyMatch(r -> r.equals(n.get("recompute").textValue())));
        assertTrue(n.get("optimizerShard").isBoolean());
        assertEquals(32, n.get("ranks").size());
        assertEquals("hidden_size", n.get("modelConfig").fieldNames().next());
    }

    @Test
    void writesAtomicallyAndReadsBack(@TempDir Path dir) throws IOException {
        Plan p = sevenB();
        Path f = dir.resolve("sub/plan.json");
        p.write(f);
        p.write(f);  // overwriting works too
        assertEquals(p, Plan.read(f));
        try (Stream<Path> files = Files.list(f.getParent())) {
            assertEquals(List.of(f), files.toList(), "no temporary files left behind");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "degrees do not multiply | dp          | 5       | dp*tp*pp",
        "wrong format version    | formatVersion | 2     | formatVersion: is 2; this AscendJ reads version 1",
        "unknown schedule        | schedule    | '\"gpipe\"' | schedule: 'gpipe' is not supported",
        "negative degree         | tp          | -1      | must all be positive",
        "batch mismatch          | microBatches | 3      | microBatches: dp",
        "bad recompute           | recompute   | '\"some\"' | recompute: 'some' is not one of none, selective, full"})
    void rejectsTamperedPlans(String name, String field, String value, String expected) {
        ObjectNode n = (ObjectNode) PlanInputs.parseTree(sevenB().toJson(), Syntax.JSON, "plan.json");
        n.set(field, PlanInputs.parseTree(value, Syntax.JSON, "value"));
        PlanException e = assertThrows(PlanException.class, () -> Plan.fromJson(n.toString(), "plan.json"));
        assertTrue(e.getMessage().startsWith("plan.json: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void rejectsPlansWhoseRanksDoNotMatchTheCluster() {
        ObjectNode n = (ObjectNode) PlanInputs.parseTree(sevenB().toJson(), Syntax.JSON, "plan.json");
        ((ObjectNode) n.get("ranks").get(3)).put("deviceId", ((ObjectNode) n.get("ranks").get(2)).get("deviceId").intValue());
        ((ObjectNode) n.get("ranks").get(3)).put("server", ((ObjectNode) n.get("ranks").get(2)).get("server").intValue());
        PlanException e = assertThrows(PlanException.class, () -> Plan.fromJson(n.toString(), "plan.json"));
        assertTrue(e.getMessage().contains("ranks[3]: server") && e.getMessage().contains("is used twice"), e.getMessage());
        ObjectNode m = (ObjectNode) PlanInputs.parseTree(sevenB().toJson(), Syntax.JSON, "plan.json");
        ((ObjectNode) m.get("modelConfig")).put("num_hidden_layers", 30);
        PlanException layers = assertThrows(PlanException.class, () -> Plan.fromJson(m.toString(), "plan.json"));
        assertTrue(layers.getMessage().contains("stages: hold 32 layers; the model has 30"), layers.getMessage());
        ObjectNode bad = (ObjectNode) PlanInputs.parseTree(sevenB().toJson(), Syntax.JSON, "plan.json");
        ((ObjectNode) bad.get("modelConfig")).put("hidden_size", -4096);
        PlanException hidden = assertThrows(PlanException.class, () -> Plan.fromJson(bad.toString(), "plan.json"));
        assertTrue(hidden.getMessage().contains("modelConfig.hidden_size: must be a positive integer"), hidden.getMessage());
    }

    @Test
    void rejectsNonPlans() {
        assertThrows(PlanException.class, () -> Plan.fromJson("[]", "x.json"));
        assertThrows(PlanException.class, () -> Plan.fromJson("{\"formatVersion\": 1", "x.json"));
        PlanException e = assertThrows(PlanException.class, () -> Plan.fromJson("{\"formatVersion\": 1}", "x.json"));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertFalse(e.getMessage().contains("Exception"), e.getMessage());
    }
}
