package dev.ascendj.data.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.InstructionRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static final String RTE_INS = "Extract all (head, relation, tail) triples from the text.";
    private static final String NER_INS = "Find the named entities in the following text and give their types.";

    private static String rec(String instruction, String input, String output, String task, String domain) throws Exception {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("instruction", instruction);
        m.put("input", input);
        m.put("output", output);
        m.put("task", task);
        m.put("domain", domain);
        return JSON.writeValueAsString(m);
    }

    private Path write(String name, List<String> lines) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, lines, StandardCharsets.UTF_8);
        return f;
    }

    private Path config(String yaml) throws Exception {
        Path f = dir.resolve("prepare.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private Preparer.Result run(Path cfg, boolean skipBad) {
        return new Preparer(PrepareConfig.read(cfg), cfg.getParent(), skipBad, null).run();
    }

    private static Map<String, Reason> reasons(Preparer.Result r) {
        Map<String, Reason> m = new HashMap<>();
        r.rejected().forEach(x -> m.put(x.source(), x.reason()));
        return m;
    }

    @Test
    void validationConfusionDedupAndRewriting() throws Exception {
        List<String> lines = new ArrayList<>();
        String ada = "Ada Brook was born in Harlow.";
        lines.add(rec(RTE_INS, ada, "(Ada Brook, born in, Harlow)", "rte", "g"));                         // 1 kept
        lines.add(rec("Identify the relation triples expressed in the sentence.", ada,
                "(Ada Brook, born in, Harlow)", "rte", "g"));                                               // 2 exact duplicate
        lines.add(rec(RTE_INS, " ada brook  was born in Harlow. ", "(ada brook, lives in, Harlow)", "rte", "g")); // 3 conflicting
        lines.add(rec(NER_INS, ada, "(Ada Brook, born in, Harlow)", "ner", "g"));                        // 4 ner with triples
        lines.add(rec(RTE_INS, "Liam Carter works for Vela Motors.", "person: Liam Carter", "rte", "g")); // 5 rte without triples
        lines.add(rec(RTE_INS, "Nora Quist lives in Easton.", "person: Nora Quist", "ner", "g"));         // 6 instruction/task
        lines.add(rec(NER_INS, "Omar Haddad was born in Kingsford.", "person: Mark Twain", "ner", "g"));  // 7 not in text
        lines.add(rec(NER_INS, "Ines Varga was born in Redmont.", "city: Redmont", "ner", "g"));          // 8 unknown type
        lines.add(rec(RTE_INS, "Theo Marsh was born in Norrvik.", "(Theo Marsh, visited, Norrvik)", "rte", "g")); // 9 relation
        lines.add(rec(NER_INS, "Hi", "none", "ner", "g"));                                                // 10 too short
        lines.add(rec(RTE_INS, "Ada Brook was born in Harlow!", "(Ada Brook, born in, Harlow)", "rte", "g")); // 11 near dup
        lines.add(rec(RTE_INS, "Elena Sato works for Atlas Media.", "(Elena Sato, works for", "rte", "g")); // 12 unreadable
        lines.add(rec(RTE_INS, "Felix Grant works for Orion Health.", "Sure: [Felix Grant, works for, Orion Health]",
                "rte", "g"));                                                                              // 13 rewritten
        lines.add(rec(NER_INS, "Hana Novak lives in Casterly.", "person: Hana Novak; location: Casterly", "ner", "g")); // 14 kept
        lines.add("{\"instruction\": \"broken\"");                                                        // 15 bad record
        write("ins.jsonl", lines);
        Path cfg = config("""
                seed: 3
                sources: [{path: ins.jsonl, format: instruction}]
                schema: {entityTypes: [person, location, organization], relations: [born in, works for, lives in]}
                filters: {minTextChars: 4}
                dedup: {threshold: 0.7}
                split: {devCount: 0}
                """);
        String msg = assertThrows(DataFormatException.class, () -> run(cfg, false)).getMessage();
        assertTrue(msg.contains("ins.jsonl:15"), msg);

        Preparer.Result r = run(cfg, true);
        Map<String, Reason> why = reasons(r);
        assertEquals(Reason.EXACT_DUPLICATE, why.get("ins.jsonl:2"));
        assertEquals(Reason.CONFLICTING_DUPLICATE, why.get("ins.jsonl:3"));
        assertEquals(Reason.NER_WITH_TRIPLES, why.get("ins.jsonl:4"));
        assertEquals(Reason.RTE_WITHOUT_TRIPLES, why.get("ins.jsonl:5"));
        assertEquals(Reason.INSTRUCTION_TASK_MISMATCH, why.get("ins.jsonl:6"));
        assertEquals(Reason.ENTITY_NOT_IN_TEXT, why.get("ins.jsonl:7"));
        assertEquals(Reason.UNKNOWN_ENTITY_TYPE, why.get("ins.jsonl:8"));
        assertEquals(Reason.UNKNOWN_RELATION, why.get("ins.jsonl:9"));
        assertEquals(Reason.TEXT_TOO_SHORT, why.get("ins.jsonl:10"));
        assertEquals(Reason.NEAR_DUPLICATE, why.get("ins.jsonl:11"));
        assertEquals(Reason.UNPARSEABLE_OUTPUT, why.get("ins.jsonl:12"));
        assertEquals(Reason.BAD_RECORD, why.values().stream().filter(x -> x == Reason.BAD_RECORD).findFirst().orElseThrow());
        assertEquals(List.of("ins.jsonl:1", "ins.jsonl:13", "ins.jsonl:14"),
                r.train().stream().map(p -> p.sample().id()).toList());
        assertEquals("(Felix Grant, works for, Orion Health)", r.train().get(1).output());
        assertEquals("(Ada Brook, born in, Harlow)", r.train().get(0).output());
        assertEquals(1, r.report().rewrittenOutputs);
        assertEquals(14, r.report().importedCount());
        assertEquals(1, r.report().rejectedCount(Reason.EXACT_DUPLICATE));
        assertTrue(java.util.regex.Pattern.compile("(?m)^  near-duplicate +1$").matcher(r.report().render()).find(),
                r.report().render());
    }

    @Test
    void offsetsAndTriplesAreCheckedForStructuredSources() throws Exception {
        write("spans.jsonl", List.of(
                "{\"text\": \"Ada Brook was born in Harlow.\", \"entities\": [{\"type\": \"person\", \"text\": \"Ada Brook\", \"start\": 0, \"end\": 9}]}",
                "{\"text\": \"Liam Carter was born in Easton.\", \"entities\": [{\"type\": \"person\", \"text\": \"Liam Carter\", \"start\": 1, \"end\": 12}]}",
                "{\"text\": \"Nora Quist was born in Westmere.\", \"entities\": [{\"type\": \"person\", \"text\": \"Nora Quist\", \"start\": 20, \"end\": 90}]}"));
        write("rel.jsonl", List.of(
                "{\"text\": \"Omar Haddad works for Vela Motors.\", \"spo_list\": [{\"subject\": \"Omar Haddad\", \"predicate\": \"works for\", \"object\": \"Vela Motors\"}]}",
                "{\"text\": \"Ines Varga works for Atlas Media.\", \"spo_list\": [{\"subject\": \"Ines Varga\", \"predicate\": \"works for\", \"object\": \"Atlas Labs\"}]}",
                "{\"text\": \"Theo Marsh works for Harbor Bank.\", \"spo_list\": []}"));
        Path cfg = config("""
                sources:
                  - {path: spans.jsonl, format: ner-json, domain: news}
                  - {path: rel.jsonl, format: relation-json, domain: news}
                split: {dev: 0}
                """);
        Preparer.Result r = run(cfg, false);
        Map<String, Reason> why = reasons(r);
        assertEquals(Reason.OFFSET_MISMATCH, why.get("spans.jsonl:2"));
        assertEquals(Reason.OFFSET_MISMATCH, why.get("spans.jsonl:3"));
        assertEquals(Reason.TRIPLE_NOT_IN_TEXT, why.get("rel.jsonl:2"));
        assertEquals(Reason.RTE_WITHOUT_TRIPLES, why.get("rel.jsonl:3"));
        assertEquals(2, r.train().size());
        Prepared ner = r.train().get(0);
        assertEquals("person: Ada Brook", ner.output());
        assertEquals("Ada Brook was born in Harlow.", ner.input());
        assertTrue(dev.ascendj.data.InstructionTemplates.candidates(dev.ascendj.data.Task.NER, "en",
                dev.ascendj.data.Schema.NONE).contains(ner.instruction()), ner.instruction());
        assertEquals("(Omar Haddad, works for, Vela Motors)", r.train().get(1).output());
        assertEquals(2, r.report().templatedInstructions);
    }

    // ------------------------------------------------------------------ mixing and splitting

    private static final String[] FIRST = {"Ada", "Liam", "Maya", "Omar", "Ines", "Theo", "Nora", "Ravi", "Elena", "Felix"};
    private static final String[] LAST = {"Brook", "Carter", "Linden", "Haddad", "Varga", "Marsh", "Quist", "Menon"};

    /** {@code n} distinct sentences per (task, domain) group, with both tasks for some sentences. */
    private List<String> groups(Map<String, Integer> sizes) throws Exception {
        List<String> lines = new ArrayList<>();
        int k = 0;
        for (Map.Entry<String, Integer> g : sizes.entrySet()) {
            String[] td = g.getKey().split("/");
            for (int i = 0; i < g.getValue(); i++, k++) {
                String person = FIRST[k % FIRST.length] + " " + LAST[(k / FIRST.length) % LAST.length] + (k / 80);
                String place = "Town" + (k * 7919 % 1000);
                String text = person + " was born in " + place + " in year " + (1000 + k) + ".";
                lines.add(td[0].equals("rte")
                        ? rec(RTE_INS, text, "(" + person + ", born in, " + place + ")", "rte", td[1])
                        : rec(NER_INS, text, "person: " + person + "; location: " + place, "ner", td[1]));
            }
        }
        return lines;
    }

    @Test
    void mixingByCountsWeightsAndTotal() throws Exception {
        Map<String, Integer> sizes = new java.util.LinkedHashMap<>();
        sizes.put("rte/general", 40);
        sizes.put("ner/general", 40);
        sizes.put("rte/medical", 12);
        sizes.put("ner/medical", 9);
        write("mix.jsonl", groups(sizes));
        Path cfg = config("""
                sources: [{path: mix.jsonl, format: instruction}]
                dedup: {near: false}
                mix:
                  total: 25
                  groups:
                    - {task: rte, domain: "gen*", weight: 0.5}
                    - {task: ner, domain: general, weight: 0.3}
                    - {task: rte, domain: medical, count: 5}
                split: {dev: 0}
                """);
        Preparer.Result r = run(cfg, false);
        Map<String, Long> got = r.train().stream().collect(Collectors.groupingBy(Prepared::group, Collectors.counting()));
        // 25 - 5 = 20 shared 0.5 : 0.3 -> 12.5 and 7.5 -> 12 and 7, the spare one to the first largest remainder.
        assertEquals(Map.of("rte/general", 13L, "ner/general", 7L, "rte/medical", 5L), got);
        assertEquals(9, r.report().rejectedCount(Reason.NOT_IN_MIX));
        assertEquals(27 + 33 + 7, r.report().rejectedCount(Reason.MIX_SURPLUS));
        assertEquals(List.of(13, 7, 5), r.report().mix().stream().map(Mixer.GroupResult::taken).toList());

        // Without a total: the largest mix that every weighted group can supply (ner/medical has 9 for weight 1 of 3).
        Files.writeString(cfg, """
                sources: [{path: mix.jsonl, format: instruction}]
                dedup: {near: false}
                mix:
                  groups:
                    - {task: rte, domain: general, weight: 2}
                    - {task: ner, domain: medical, weight: 1}
                split: {dev: 0}
                """);
        Preparer.Result w = run(cfg, false);
        Map<String, Long> got2 = w.train().stream().collect(Collectors.groupingBy(Prepared::group, Collectors.counting()));
        assertEquals(Map.of("rte/general", 18L, "ner/medical", 9L), got2);
    }

    @Test
    void shortGroupsRepeatOnlyWhenAsked() throws Exception {
        Map<String, Integer> sizes = new java.util.LinkedHashMap<>();
        sizes.put("rte/medical", 4);
        write("mix.jsonl", groups(sizes));
        String base = """
                sources: [{path: mix.jsonl, format: instruction}]
                mix:
                  repeat: %s
                  groups: [{task: rte, domain: medical, count: 10}]
                split: {dev: 0}
                """;
        Preparer.Result no = run(config(String.format(base, "false")), false);
        assertEquals(4, no.train().size());
        assertEquals(6, no.report().mix().get(0).shortfall());
        assertTrue(java.util.regex.Pattern.compile("(?m)^rte/medical +4 +10 +4  \\(short by 6\\)$").matcher(no.report().render()).find(),
                no.report().render());
        Preparer.Result yes = run(config(String.format(base, "true")), false);
        assertEquals(10, yes.train().size());
        assertEquals(4, new TreeSet<>(yes.train().stream().map(p -> p.sample().id()).toList()).size());
    }

    @Test
    void splitIsDeterministicOrderIndependentAndKeepsSentencesTogether() throws Exception {
        Map<String, Integer> sizes = new java.util.LinkedHashMap<>();
        sizes.put("rte/general", 30);
        sizes.put("ner/medical", 30);
        List<String> lines = groups(sizes);
        // The same sentence in both tasks: must land on one side.
        String shared = "Maya Linden was born in Easton in year 1.";
        lines.add(rec(RTE_INS, shared, "(Maya Linden, born in, Easton)", "rte", "general"));
        lines.add(rec(NER_INS, shared, "person: Maya Linden; location: Easton", "ner", "general"));
        write("a.jsonl", lines);
        List<String> shuffled = new ArrayList<>(lines);
        Collections.shuffle(shuffled, new Random(1));
        write("b.jsonl", shuffled);
        String yaml = """
                seed: %d
                sources: [{path: %s, format: instruction}]
                dedup: {near: false}
                split: {dev: 0.2}
                """;
        Preparer.Result a1 = run(config(String.format(yaml, 11, "a.jsonl")), false);
        a1.write(dir.resolve("out1"));
        Preparer.Result a2 = run(config(String.format(yaml, 11, "a.jsonl")), false);
        a2.write(dir.resolve("out2"));
        for (String f : new String[] {"train.jsonl", "dev.jsonl", "train-conversation.json", "report.json"}) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("out1").resolve(f)), Files.readAllBytes(dir.resolve("out2").resolve(f)), f);
        }
        Preparer.Result b = run(config(String.format(yaml, 11, "b.jsonl")), false);
        assertEquals(texts(a1.dev()), texts(b.dev()));
        Preparer.Result c = run(config(String.format(yaml, 12, "a.jsonl")), false);
        assertNotEquals(texts(a1.dev()), texts(c.dev()));

        int total = a1.train().size() + a1.dev().size();
        assertEquals(62, total);
        assertTrue(Math.abs(a1.dev().size() - Math.round(0.2 * total)) <= 1, a1.dev().size() + " of " + total);
        Set<String> devTexts = texts(a1.dev());
        Set<String> trainTexts = texts(a1.train());
        assertTrue(Collections.disjoint(devTexts, trainTexts));
        assertTrue(devTexts.contains(shared) || trainTexts.contains(shared));
        // Input order is kept within each part.
        List<String> order = a1.train().stream().map(p -> p.sample().id()).toList();
        List<String> sorted = new ArrayList<>(order);
        sorted.sort(java.util.Comparator.comparingInt(s -> Integer.parseInt(s.substring(s.indexOf(':') + 1))));
        assertEquals(sorted, order);
    }

    private static Set<String> texts(List<Prepared> ps) {
        return ps.stream().map(p -> p.sample().text()).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void writesAscendjJsonlMindFormersConversationsReportAndHistogram() throws Exception {
        Map<String, Integer> sizes = new java.util.LinkedHashMap<>();
        sizes.put("rte/general", 10);
        sizes.put("ner/general", 10);
        write("d.jsonl", groups(sizes));
        Preparer.Result r = run(config("""
                sources: [{path: d.jsonl, format: instruction}]
                dedup: {near: false}
                split: {devCount: 4}
                """), false);
        Path out = dir.resolve("out");
        r.write(out);
        List<InstructionRecord> train = InstructionRecord.readJsonl(out.resolve("train.jsonl"));
        assertEquals(16, train.size());
        assertEquals(4, InstructionRecord.readJsonl(out.resolve("dev.jsonl")).size());
        JsonNode first = JSON.readTree(Files.readAllLines(out.resolve("train.jsonl")).get(0));
        Prepared p0 = r.train().get(0);
        assertEquals(List.of(p0.instruction(), p0.input(), p0.output(), p0.sample().task().id(), "general", p0.sample().id()),
                List.of(first.get("instruction").asText(), first.get("input").asText(), first.get("output").asText(),
                        first.get("task").asText(), first.get("domain").asText(), first.get("source").asText()));
        assertEquals(6, first.size(), first.toString());
        JsonNode conv = JSON.readTree(out.resolve("train-conversation.json").toFile());
        assertTrue(conv.isArray());
        assertEquals(16, conv.size());
        JsonNode c0 = conv.get(0);
        assertEquals("1", c0.get("id").asText());
        assertEquals("human", c0.get("conversations").get(0).get("from").asText());
        assertEquals("gpt", c0.get("conversations").get(1).get("from").asText());
        // The Stanford Alpaca prompt with an input, as v1.0.0:mindformers/tools/dataset_preprocess/llama/alpaca_converter.py wraps it.
        assertEquals("Below is an instruction that describes a task, paired with an input that provides further context. Write a response "
                + "that appropriately completes the request.\n\n### Instruction:\n" + train.get(0).instruction() + "\n\n### Input:\n"
                + train.get(0).input() + "\n\n### Response:", c0.get("conversations").get(0).get("value").asText());
        assertEquals(train.get(0).output(), c0.get("conversations").get(1).get("value").asText());
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertEquals(20, report.get("imported").asInt());
        assertEquals(16, report.get("train").asInt());
        assertEquals(4, report.get("dev").asInt());
        for (String g : List.of("rte/general", "ner/general")) {
            JsonNode group = report.get("groups").get(g);
            assertEquals(10, group.get("imported").asInt(), g);
            assertEquals(r.train().stream().filter(p -> p.group().equals(g)).count(), group.get("train").asLong(), g);
            assertEquals(r.dev().stream().filter(p -> p.group().equals(g)).count(), group.get("dev").asLong(), g);
        }
        java.awt.image.BufferedImage histogram = ImageIO.read(out.resolve("lengths.png").toFile());
        assertNotNull(histogram, "lengths.png is a PNG");
        assertTrue(histogram.getWidth() > 100 && histogram.getHeight() > 100, histogram.getWidth() + "x" + histogram.getHeight());
        assertEquals("", Files.readString(out.resolve("rejected.jsonl")));
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void configErrorsNameTheFile() throws Exception {
        Path typo = config("sources: [{path: a.jsonl, format: instruction}]\nsplitt: {dev: 0.1}\n");
        String msg = assertThrows(DataFormatException.class, () -> PrepareConfig.read(typo)).getMessage();
        assertTrue(msg.startsWith(typo + ":") && msg.contains("splitt: unknown field") && msg.contains("split"), msg);
        Path badMix = config("sources: [{path: a.jsonl, format: instruction}]\nmix: {groups: [{task: ner, weight: 1, count: 2}]}\n");
        String m2 = assertThrows(DataFormatException.class, () -> PrepareConfig.read(badMix)).getMessage();
        assertTrue(m2.contains("exactly one of weight and count"), m2);
        Path badFormat = config("sources: [{path: a.jsonl, format: xml}]\n");
        assertTrue(assertThrows(DataFormatException.class, () -> PrepareConfig.read(badFormat)).getMessage()
                .contains("format must be one of"));
        Path noSource = config("sources: [{path: missing.jsonl, format: instruction}]\n");
        assertTrue(assertThrows(DataFormatException.class, () -> run(noSource, true)).getMessage()
                .contains("missing.jsonl: no such file"));
    }
}
