package dev.ascendj.data.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.Entity;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportersTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }

    private static String error(Runnable r) {
        return assertThrows(DataFormatException.class, r::run).getMessage();
    }

    // ------------------------------------------------------------------ span NER JSON

    @Test
    void clueNerSpansWithInclusiveEnds() throws Exception {
        Path f = write("cluener.jsonl", """
                {"text": "叶老桂在浙江省温州市工作。", "label": {"name": {"叶老桂": [[0, 2]]}, "address": {"浙江省温州市": [[4, 9]]}}}
                {"text": "Ada Brook met Ada Brook.", "label": {"person": {"Ada Brook": [[0, 8], [14, 22]]}}}
                """);
        List<KgSample> s = SourceFormat.NER_JSON.read(f, new ImportOptions("news", null, null,
                Map.of("name", "人物"), null, null), BadRecords.failing());
        assertEquals(2, s.size());
        KgSample a = s.get(0);
        assertEquals(Task.NER, a.task());
        assertEquals("news", a.domain());
        assertEquals("zh", a.language());
        assertEquals("cluener.jsonl:1", a.id());
        assertEquals(List.of(new Entity("人物", "叶老桂", 0, 3), new Entity("address", "浙江省温州市", 4, 10)), a.entities());
        assertEquals(2, s.get(1).entities().size());
        assertEquals(new Entity("person", "Ada Brook", 14, 23), s.get(1).entities().get(1));
        assertEquals("en", s.get(1).language());
    }

    @Test
    void entityListsWithExclusiveEndsAndDoccanoSpansInAJsonArray() throws Exception {
        Path f = write("spans.json", """
                [
                  {"text": "Ada Brook was born in Harlow.",
                   "entities": [{"type": "location", "text": "Harlow", "start": 22, "end": 28},
                                {"label": "person", "entity": "Ada Brook", "start_offset": 0, "end_offset": 9}]},
                  {"text": "Liam Carter works for Vela Motors.", "label": [[0, 11, "PER"], [22, 33, "ORG"]], "domain": "cars"},
                  {"text": "No offsets here: Harlow.", "entities": [{"type": "location", "text": "Harlow"}]}
                ]
                """);
        List<KgSample> s = SourceFormat.NER_JSON.read(f, new ImportOptions(null, null, null,
                Map.of("PER", "person", "ORG", "organization"), null, null), BadRecords.failing());
        assertEquals(3, s.size());
        assertEquals(List.of(new Entity("person", "Ada Brook", 0, 9), new Entity("location", "Harlow", 22, 28)),
                s.get(0).entities());
        assertEquals("spans.json:2", s.get(0).id());
        assertEquals("spans.json:5", s.get(1).id());
        assertEquals("cars", s.get(1).domain());
        assertEquals("general", s.get(0).domain());
        assertEquals(List.of(new Entity("person", "Liam Carter", 0, 11), new Entity("organization", "Vela Motors", 22, 33)),
                s.get(1).entities());
        assertEquals(List.of(Entity.of("location", "Harlow")), s.get(2).entities());
    }

    @Test
    void offsetsThatMissTheirEntityAreKeptForValidationNotRejectedHere() throws Exception {
        Path f = write("off.jsonl", "{\"text\": \"Ada Brook was born in Harlow.\", \"label\": {\"location\": {\"Harlow\": [[21, 26]]}}}\n");
        KgSample s = SourceFormat.NER_JSON.read(f, ImportOptions.DEFAULT, BadRecords.failing()).get(0);
        Entity e = s.entities().get(0);
        assertEquals("Harlow", e.text());
        assertEquals(21, e.start());
        assertEquals(27, e.end()); // read as inclusive (CLUENER), the convention of the label map
    }

    @Test
    void malformedSpanRecordsNameFileAndLineAndSkipBadImportsTheRest() throws Exception {
        Path f = write("bad.jsonl", """
                {"text": "Ada Brook was born in Harlow.", "label": {"person": {"Ada Brook": [[0, 8]]}}}
                {"text": "Broken", "label": {"person": {"Ada": [[0, "x"]]}}}
                not json at all

                {"label": {"person": {"Ada": [[0, 2]]}}}
                {"text": "Liam", "label": {"person": {"Liam": [[3, 1]]}}}
                {"text": "Liam Carter lives in Easton.", "label": {"person": {"Liam Carter": [[0, 10]]}}}
                """);
        String msg = error(() -> SourceFormat.NER_JSON.read(f, ImportOptions.DEFAULT, BadRecords.failing()));
        assertTrue(msg.startsWith(f + ":2: "), msg);
        assertTrue(msg.contains("offsets must be [start, end] integers"), msg);
        assertTrue(msg.contains("--skip-bad"), msg);

        BadRecords bad = BadRecords.skipping();
        List<KgSample> s = SourceFormat.NER_JSON.read(f, ImportOptions.DEFAULT, bad);
        assertEquals(List.of("bad.jsonl:1", "bad.jsonl:7"), s.stream().map(KgSample::id).toList());
        assertEquals(List.of(2L, 3L, 5L, 6L), bad.records().stream().map(BadRecord::line).toList());
        assertTrue(bad.records().get(1).problem().startsWith("not JSON"), bad.records().get(1).problem());
        assertTrue(bad.records().get(2).problem().contains("'text'"), bad.records().get(2).problem());
        assertTrue(bad.records().get(3).problem().contains("0 <= start <= end"), bad.records().get(3).problem());
    }

    @Test
    void aSyntaxErrorInsideAJsonArrayEndsTheFile() throws Exception {
        Path f = write("arr.json", "[\n{\"text\": \"Harlow.\", \"entities\": [{\"type\": \"location\", \"text\": \"Harlow\"}]},\n"
                + "{\"text\": \"oops\" \"entities\": []},\n{\"text\": \"never read\", \"entities\": []}\n]\n");
        BadRecords bad = BadRecords.skipping();
        List<KgSample> s = SourceFormat.NER_JSON.read(f, ImportOptions.DEFAULT, bad);
        assertEquals(1, s.size());
        assertEquals(1, bad.records().size());
        assertEquals(3, bad.records().get(0).line());
        assertTrue(bad.records().get(0).problem().contains("rest of the array"), bad.records().get(0).problem());
        assertTrue(error(() -> SourceFormat.NER_JSON.read(f, ImportOptions.DEFAULT, BadRecords.failing()))
                .startsWith(f + ":3: "));
    }

    @Test
    void missingFilesAndNonUtf8AreErrorsEvenWhenSkipping() throws Exception {
        assertTrue(error(() -> SourceFormat.CONLL.read(dir.resolve("nope.conll"), ImportOptions.DEFAULT,
                BadRecords.skipping())).contains("no such file"));
        Path latin = dir.resolve("latin1.jsonl");
        Files.write(latin, new byte[] {'{', '"', 't', '"', ':', '"', (byte) 0xe9, '"', '}', '\n'});
        assertTrue(error(() -> SourceFormat.INSTRUCTION.read(latin, ImportOptions.DEFAULT, BadRecords.skipping()))
                .contains("not UTF-8"));
    }

    // ------------------------------------------------------------------ CoNLL

    @Test
    void bioTagsToEntitiesWithOffsets() throws Exception {
        Path f = write("bio.conll", """
                -DOCSTART- -X- O O

                Ada NNP B-PER
                Brook NNP I-PER
                was VBD O
                born VBN O
                in IN O
                Port NNP B-LOC
                Ellis NNP I-LOC
                . . O

                Harlow B-LOC
                Vela B-ORG
                Motors I-ORG
                """);
        List<KgSample> s = SourceFormat.CONLL.read(f, new ImportOptions(null, null, null, Map.of("PER", "person"),
                "bio", null), BadRecords.failing());
        assertEquals(2, s.size());
        assertEquals("Ada Brook was born in Port Ellis .", s.get(0).text());
        assertEquals(List.of(new Entity("person", "Ada Brook", 0, 9), new Entity("LOC", "Port Ellis", 22, 32)),
                s.get(0).entities());
        assertEquals("bio.conll:3", s.get(0).id());
        assertEquals(List.of(new Entity("LOC", "Harlow", 0, 6), new Entity("ORG", "Vela Motors", 7, 18)), s.get(1).entities());
    }

    @Test
    void bioesAndChineseCharactersJoinWithoutSpaces() throws Exception {
        Path f = write("bioes.conll", "周\tB-PER\n婷\tE-PER\n在\tO\n北\tB-LOC\n京\tE-LOC\n工\tO\n作\tO\n。\tO\n\n"
                + "杭\tS-LOC\n州\tS-LOC\n");
        List<KgSample> s = SourceFormat.CONLL.read(f, ImportOptions.DEFAULT, BadRecords.failing());
        assertEquals("周婷在北京工作。", s.get(0).text());
        assertEquals(List.of(new Entity("PER", "周婷", 0, 2), new Entity("LOC", "北京", 3, 5)), s.get(0).entities());
        assertEquals("zh", s.get(0).language());
        assertEquals(List.of(new Entity("LOC", "杭", 0, 1), new Entity("LOC", "州", 1, 2)), s.get(1).entities());
    }

    @Test
    void iob1MayStartEntitiesWithI() throws Exception {
        Path f = write("iob1.conll", "Ada I-PER\nBrook I-PER\nmet O\nLiam I-PER\nB B-PER\n");
        KgSample s = SourceFormat.CONLL.read(f, new ImportOptions(null, null, null, null, "iob1", null),
                BadRecords.failing()).get(0);
        assertEquals(List.of("Ada Brook", "Liam", "B"), s.entities().stream().map(Entity::text).toList());
        assertTrue(error(() -> SourceFormat.CONLL.read(f, ImportOptions.DEFAULT, BadRecords.failing()))
                .startsWith(f + ":1: tag 'I-PER' does not continue"));
    }

    @Test
    void badTagsAndTransitionsAreBadSentences() throws Exception {
        Path f = write("bad.conll", """
                Ada B-PER
                Brook I-PER

                Harlow X-LOC
                is O

                lonely

                Ada B-PER
                Liam I-LOC

                Kept B-ORG
                Inc E-ORG
                """);
        ImportOptions bioes = new ImportOptions(null, null, null, null, "bioes", null);
        BadRecords bad = BadRecords.skipping();
        List<KgSample> s = SourceFormat.CONLL.read(f, ImportOptions.DEFAULT, bad);
        assertEquals(List.of("Ada Brook", "Kept Inc"), s.stream().map(KgSample::text).toList());
        assertEquals(List.of(4L, 7L, 10L), bad.records().stream().map(BadRecord::line).toList());
        assertTrue(bad.records().get(0).problem().contains("bad tag 'X-LOC'"));
        assertTrue(bad.records().get(1).problem().contains("a token and a tag"));
        assertTrue(bad.records().get(2).problem().contains("follows a PER tag"));
        // BIOES: B-PER ... I-PER then the sentence ends without E-PER.
        BadRecords strict = BadRecords.skipping();
        SourceFormat.CONLL.read(f, bioes, strict);
        assertEquals(2L, strict.records().get(0).line());
        assertTrue(strict.records().get(0).problem().contains("not ended by E-"), strict.records().get(0).problem());
        assertTrue(error(() -> SourceFormat.CONLL.read(f, ImportOptions.DEFAULT, BadRecords.failing()))
                .startsWith(f + ":4: "));
    }

    // ------------------------------------------------------------------ relation JSON

    @Test
    void relationRecordsInTheirCommonShapes() throws Exception {
        Path f = write("rel.jsonl", """
                {"text": "Metformin treats type 2 diabetes.", "spo_list": [{"subject": "Metformin", "predicate": "treats", "object": {"@value": "type 2 diabetes"}, "subject_type": "drug", "object_type": {"@value": "disease"}}]}
                {"text": "Ada Brook was born in Harlow.", "relations": [{"head": "Ada Brook", "relation": "born in", "tail": "Harlow"}], "domain": "bio"}
                {"text": "周婷出生于北京。", "triples": [["周婷", "出生于", "北京"]]}
                """);
        List<KgSample> s = SourceFormat.RELATION_JSON.read(f, new ImportOptions("medical", null, null, null, null, null),
                BadRecords.failing());
        assertEquals(3, s.size());
        assertEquals(Task.RTE, s.get(0).task());
        assertEquals(List.of(new Triple("Metformin", "treats", "type 2 diabetes")), s.get(0).triples());
        assertEquals(List.of(Entity.of("drug", "Metformin"), Entity.of("disease", "type 2 diabetes")), s.get(0).entities());
        assertEquals("medical", s.get(0).domain());
        assertEquals("bio", s.get(1).domain());
        assertEquals(new Triple("周婷", "出生于", "北京"), s.get(2).triples().get(0));
        assertNull(s.get(2).instruction());
    }

    @Test
    void malformedRelationRecords() throws Exception {
        Path f = write("rel.jsonl", """
                {"text": "Ada Brook was born in Harlow.", "spo_list": [{"subject": "Ada Brook", "object": "Harlow"}]}
                {"text": "x", "spo_list": {"subject": "a"}}
                {"text": "y", "spo_list": [["a", "b"]]}
                {"text": "z"}
                {"text": "Ada Brook was born in Harlow.", "spo_list": [{"subject": "Ada Brook", "predicate": 3, "object": "Harlow"}]}
                {"text": "Ada Brook was born in Harlow.", "spo_list": [{"subject": "Ada Brook", "predicate": "born in", "object": "Harlow"}]}
                """);
        String msg = error(() -> SourceFormat.RELATION_JSON.read(f, ImportOptions.DEFAULT, BadRecords.failing()));
        assertTrue(msg.startsWith(f + ":1: ") && msg.contains("'predicate'"), msg);
        BadRecords bad = BadRecords.skipping();
        List<KgSample> s = SourceFormat.RELATION_JSON.read(f, ImportOptions.DEFAULT, bad);
        assertEquals(1, s.size());
        assertEquals("rel.jsonl:6", s.get(0).id());
        assertEquals(5, bad.records().size());
    }

    // ------------------------------------------------------------------ instruction JSONL

    @Test
    void instructionRecordsKeepTheirAnswerAndReadItBack() throws Exception {
        Path f = write("ins.jsonl", """
                {"instruction": "Extract all (head, relation, tail) triples from the text.", "input": "Ada Brook was born in Harlow.", "output": "(Ada Brook, born in, Harlow)"}
                {"instruction": "找出下面句子中的实体并标注类型。", "input": "周婷出生于北京。", "output": "人物: 周婷; 地点: 北京", "task": "ner", "domain": "general-zh"}
                {"instruction": "Summarise.", "input": "Ada Brook was born in Harlow.", "output": "person: Ada Brook", "task": "NER"}
                """);
        List<KgSample> s = SourceFormat.INSTRUCTION.read(f, ImportOptions.DEFAULT, BadRecords.failing());
        assertEquals(Task.RTE, s.get(0).task());
        assertEquals(List.of(new Triple("Ada Brook", "born in", "Harlow")), s.get(0).triples());
        assertEquals("(Ada Brook, born in, Harlow)", s.get(0).output());
        assertEquals("general-zh", s.get(1).domain());
        assertEquals(List.of(new Entity("人物", "周婷", 0, 2), new Entity("地点", "北京", 5, 7)), s.get(1).entities());
        assertEquals(Task.NER, s.get(2).task());
    }

    @Test
    void malformedInstructionRecords() throws Exception {
        Path f = write("ins.jsonl", """
                {"instruction": "Summarise the text.", "input": "Ada.", "output": "Ada."}
                {"instruction": "Extract entities.", "input": "Ada.", "output": "person: Ada", "task": "pos"}
                {"instruction": "Extract entities.", "input": "Ada."}
                {"instruction": "", "input": "Ada.", "output": "person: Ada"}
                {"instruction": "Extract entities.", "input": 5, "output": "person: Ada"}
                [1, 2]
                {"instruction": "Extract entities.", "input": "Ada.", "output": "person: Ada"}
                """);
        BadRecords bad = BadRecords.skipping();
        List<KgSample> s = SourceFormat.INSTRUCTION.read(f, ImportOptions.DEFAULT, bad);
        assertEquals(1, s.size());
        List<String> problems = bad.records().stream().map(BadRecord::problem).toList();
        assertTrue(problems.get(0).contains("neither entities nor triples"), problems.get(0));
        assertTrue(problems.get(1).contains("task must be ner or rte"), problems.get(1));
        assertTrue(problems.get(2).contains("'output'"), problems.get(2));
        assertTrue(problems.get(3).contains("'instruction'"), problems.get(3));
        assertTrue(problems.get(4).contains("'input' must be a string"), problems.get(4));
        assertTrue(problems.get(5).contains("expected a JSON object"), problems.get(5));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), bad.records().stream().map(BadRecord::line).toList());
        // With a default task the first record is fine.
        BadRecords bad2 = BadRecords.skipping();
        SourceFormat.INSTRUCTION.read(f, new ImportOptions(null, null, Task.NER, null, null, null), bad2);
        assertEquals(5, bad2.records().size());
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new ImportOptions(null, "fr", null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new ImportOptions(null, null, null, null, "bilou", null));
        assertThrows(IllegalArgumentException.class, () -> SourceFormat.parse("csv"));
    }
}
