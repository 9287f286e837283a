package dev.ascendj.data.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.data.DataFormatException;
import dev.ascendj.data.Entity;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;
import dev.ascendj.data.io.BadRecords;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IeScorerTest {
    private static final double EPS = 1e-12;

    private static Entity.Key e(String type, String text) {
        return Entity.of(type, text).key();
    }

    private static IeRecord ner(List<Entity.Key> items, int repeats) {
        return new IeRecord(null, "f:1", Task.NER, null, items, List.of(), false, repeats);
    }

    private static IeRecord rte(List<Triple> items) {
        return new IeRecord(null, "f:1", Task.RTE, null, List.of(), items, false, 0);
    }

    private static TaskScore.ErrorCount error(TaskScore s, String kind, String detail) {
        return s.errors().stream().filter(x -> x.kind().equals(kind) && x.detail().equals(detail)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + detail + " in " + s.errors()));
    }

    /** Four examples worked out by hand: a duplicate, an empty prediction, a spurious one, a boundary error. */
    @Test
    void nerMicroMacroPerTypeAndErrors() {
        List<IeScorer.Pair> pairs = List.of(
                new IeScorer.Pair(ner(List.of(e("person", "Ada"), e("location", "Harlow")), 0),
                        ner(List.of(e("person", "Ada"), e("organization", "Harlow")), 1)),
                new IeScorer.Pair(ner(List.of(e("organization", "Norell Labs")), 0), ner(List.of(), 0)),
                new IeScorer.Pair(ner(List.of(), 0), ner(List.of(e("location", "Easton")), 0)),
                new IeScorer.Pair(ner(List.of(e("person", "Liam Carter"), e("location", "Easton")), 0),
                        ner(List.of(e("person", "Liam"), e("location", "Easton")), 0)));
        TaskScore s = IeScorer.score(Task.NER, pairs, 10);
        assertEquals(4, s.examples());
        assertEquals(new Prf(2, 5, 5), s.micro());
        assertEquals(0.4, s.micro().precision(), EPS);
        assertEquals(0.4, s.micro().recall(), EPS);
        assertEquals(0.4, s.micro().f1(), EPS);
        assertEquals(new Prf(1, 2, 2), s.perType().get("person"));
        assertEquals(new Prf(1, 2, 2), s.perType().get("location"));
        assertEquals(new Prf(0, 1, 1), s.perType().get("organization"));
        assertEquals(List.of("location", "organization", "person"), new ArrayList<>(s.perType().keySet()));
        assertEquals(1.0 / 3, s.macroP(), EPS);
        assertEquals(1.0 / 3, s.macroR(), EPS);
        assertEquals(1.0 / 3, s.macroF1(), EPS);
        assertEquals(1, s.repeats());
        assertEquals(4, s.errors().size());
        assertEquals(1, error(s, "wrong-type", "location -> organization").count());
        assertEquals(1, error(s, "missed", "organization").count());
        assertEquals(1, error(s, "spurious", "location").count());
        assertEquals(1, error(s, "boundary", "person").count());
        assertTrue(error(s, "boundary", "person").example().contains("gold person: Liam Carter, predicted person: Liam"));
    }

    @Test
    void macroDiffersFromMicroWhenTypesAreUnbalanced() {
        // person: 9 of 9 right; location: 0 of 1 found, nothing predicted.
        List<Entity.Key> gold = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            gold.add(e("person", "P" + i));
        }
        List<Entity.Key> pred = new ArrayList<>(gold);
        gold.add(e("location", "L"));
        TaskScore s = IeScorer.score(Task.NER, List.of(new IeScorer.Pair(ner(gold, 0), ner(pred, 0))), 10);
        assertEquals(1.0, s.micro().precision(), EPS);
        assertEquals(0.9, s.micro().recall(), EPS);
        assertEquals(2 * 0.9 / 1.9, s.micro().f1(), EPS);
        assertEquals(0.5, s.macroP(), EPS);   // (1 + 0) / 2: a type with no predictions has precision 0
        assertEquals(0.5, s.macroR(), EPS);
        assertEquals(0.5, s.macroF1(), EPS);
    }

    @Test
    void emptyPredictionsScoreZeroAndEverythingIsMissed() {
        List<IeScorer.Pair> pairs = List.of(
                new IeScorer.Pair(ner(List.of(e("person", "Ada"), e("location", "Harlow")), 0), ner(List.of(), 0)),
                new IeScorer.Pair(ner(List.of(e("person", "Liam")), 0), null));
        TaskScore s = IeScorer.score(Task.NER, pairs, 10);
        assertEquals(new Prf(0, 0, 3), s.micro());
        assertEquals(0, s.micro().precision());
        assertEquals(0, s.micro().recall());
        assertEquals(0, s.micro().f1());
        assertEquals(2, error(s, "missed", "person").count());
        assertEquals(1, error(s, "missed", "location").count());
        assertEquals("missed", s.errors().get(0).kind());
        assertEquals("person", s.errors().get(0).detail()); // most frequent first
    }

    @Test
    void perfectAndDuplicatePredictions() {
        List<Entity.Key> g = List.of(e("person", "Ada"), e("location", "Harlow"));
        // The same item predicted twice counts once: no extra false positive, no extra credit.
        List<Entity.Key> p = List.of(e("person", "Ada"), e("person", " Ada "), e("location", "Harlow"));
        TaskScore s = IeScorer.score(Task.NER, List.of(new IeScorer.Pair(ner(g, 0), ner(p, 1))), 10);
        assertEquals(new Prf(2, 2, 2), s.micro());
        assertEquals(1.0, s.micro().f1(), EPS);
        assertEquals(1.0, s.macroF1(), EPS);
        assertTrue(s.errors().isEmpty());
    }

    @Test
    void rteExactTriplesWithPartialMatchesAndErrorKinds() {
        Triple born = new Triple("Ada", "born in", "Harlow");
        Triple works = new Triple("Ada", "works for", "Norell");
        Triple located = new Triple("Norell", "located in", "Harlow");
        List<IeScorer.Pair> pairs = List.of(
                new IeScorer.Pair(rte(List.of(born, works)), rte(List.of(born, new Triple("Norell", "works for", "Ada")))),
                new IeScorer.Pair(rte(List.of(located)), rte(List.of(new Triple("Norell", "located in", "Easton")))),
                new IeScorer.Pair(rte(List.of(born)), rte(List.of(new Triple("Ada", "lives in", "Harlow")))),
                new IeScorer.Pair(rte(List.of(works)), rte(List.of(new Triple("Liam", "works for", "Norell")))));
        TaskScore s = IeScorer.score(Task.RTE, pairs, 10);
        assertEquals(new Prf(1, 5, 5), s.micro());
        assertEquals(0.2, s.micro().f1(), EPS);
        assertEquals(new Prf(1, 1, 2), s.perType().get("born in"));
        assertEquals(new Prf(0, 2, 2), s.perType().get("works for"));
        assertEquals(new Prf(0, 1, 1), s.perType().get("located in"));
        assertEquals(new Prf(0, 1, 0), s.perType().get("lives in"));
        // Macro over four relations: precision (1 + 0 + 0 + 0) / 4, recall (0.5 + 0 + 0 + 0) / 4, F1 (2/3) / 4.
        assertEquals(0.25, s.macroP(), EPS);
        assertEquals(0.125, s.macroR(), EPS);
        assertEquals(2.0 / 3 / 4, s.macroF1(), EPS);
        assertEquals(1, error(s, "reversed", "works for").count());
        assertEquals(1, error(s, "wrong-tail", "located in").count());
        assertEquals(1, error(s, "wrong-relation", "born in -> lives in").count());
        assertEquals(1, error(s, "wrong-head", "works for").count());
        assertEquals(4, s.errors().size());
    }

    @Test
    void topErrorsCutsTheListAndOtherTasksAreIgnored() {
        List<IeScorer.Pair> pairs = List.of(
                new IeScorer.Pair(ner(List.of(e("a", "1"), e("b", "2"), e("c", "3")), 0), ner(List.of(), 0)),
                new IeScorer.Pair(rte(List.of(new Triple("x", "r", "y"))), rte(List.of())));
        TaskScore s = IeScorer.score(Task.NER, pairs, 2);
        assertEquals(1, s.examples());
        assertEquals(2, s.errors().size());
    }

    @Test
    void alignmentByIdByPositionAndItsErrors(@TempDir Path dir) throws Exception {
        Path gold = dir.resolve("gold.jsonl");
        Path pred = dir.resolve("pred.jsonl");
        Files.writeString(gold, """
                {"id": "a", "task": "ner", "input": "Ada Brook was born in Harlow.", "output": "person: Ada Brook; location: Harlow"}
                {"id": "b", "instruction": "Extract all (head, relation, tail) triples.", "input": "Liam works for Vela.", "output": "(Liam, works for, Vela)"}
                """);
        Files.writeString(pred, """
                {"id": "b", "task": "rte", "text": "Liam works for Vela.", "generation": "...", "wellFormed": false, "triples": [{"head": "Liam", "relation": "works for", "tail": "Vela"}]}
                {"id": "a", "task": "ner", "text": "Ada Brook was born in Harlow.", "entities": [{"type": "person", "text": "Ada Brook"}]}
                """);
        List<IeRecord> g = IeRecords.read(gold, true, null, BadRecords.failing());
        List<IeRecord> p = IeRecords.read(pred, false, null, BadRecords.failing());
        assertEquals(Task.RTE, g.get(1).task());
        List<IeScorer.Pair> pairs = IeScorer.align(gold, g, pred, p);
        assertEquals("a", pairs.get(0).pred().id());
        TaskScore ner = IeScorer.score(Task.NER, pairs, 5);
        assertEquals(new Prf(1, 1, 2), ner.micro());
        assertEquals(new Prf(1, 1, 1), IeScorer.score(Task.RTE, pairs, 5).micro());
        assertEquals(1, IeScorer.score(Task.RTE, pairs, 5).malformed());
        assertEquals(0, ner.malformed());

        // Without ids: by position, so the sentences disagree.
        Path noIds = dir.resolve("noids.jsonl");
        Files.writeString(noIds, Files.readString(pred).replace("\"id\": \"a\", ", "").replace("\"id\": \"b\", ", ""));
        List<IeRecord> q = IeRecords.read(noIds, false, null, BadRecords.failing());
        String msg = assertThrows(DataFormatException.class, () -> IeScorer.align(gold, g, noIds, q)).getMessage();
        assertTrue(msg.startsWith(noIds + ":1: the sentence differs"), msg);
        String count = assertThrows(DataFormatException.class,
                () -> IeScorer.align(gold, g, noIds, q.subList(0, 1))).getMessage();
        assertTrue(count.contains("1 predictions for 2 gold records"), count);
    }

    @Test
    void goldAnswersMustBeReadableWhilePredictionsAreScoredForWhatTheyHold(@TempDir Path dir) throws Exception {
        Path gold = dir.resolve("gold.jsonl");
        Files.writeString(gold, """
                {"task": "rte", "input": "Ada was born in Harlow.", "output": "(Ada, born in"}
                {"task": "rte", "input": "Ada was born in Harlow.", "output": "(Ada, born in, Harlow)"}
                """);
        String msg = assertThrows(DataFormatException.class,
                () -> IeRecords.read(gold, true, null, BadRecords.failing())).getMessage();
        assertTrue(msg.startsWith(gold + ":1: gold answer cannot be read"), msg);
        List<IeRecord> asPred = IeRecords.read(gold, false, null, BadRecords.failing());
        assertTrue(asPred.get(0).malformed());
        assertTrue(asPred.get(0).triples().isEmpty());
        assertEquals(1, asPred.get(1).triples().size());

        Path noTask = dir.resolve("notask.jsonl");
        Files.writeString(noTask, "{\"input\": \"Ada.\", \"output\": \"person: Ada\"}\n");
        assertTrue(assertThrows(DataFormatException.class, () -> IeRecords.read(noTask, true, null, BadRecords.failing()))
                .getMessage().contains("--task"));
        assertEquals(Task.NER, IeRecords.read(noTask, true, Task.NER, BadRecords.failing()).get(0).task());
    }

    @Test
    void prfConventions() {
        assertEquals(0, new Prf(0, 0, 0).f1());
        assertEquals(0, new Prf(0, 3, 0).precision());
        assertThrows(IllegalArgumentException.class, () -> new Prf(2, 1, 5));
    }
}
