package dev.ascendj.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.data.ParseResult.Kind;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OutputParserTest {
    private static final String EN = "Ada Brook was born in Harlow and works for Norell Labs.";
    private static final String ZH = "周婷出生于北京，在华光大学工作。";

    private static ParseResult ner(String out, String text) {
        return OutputParser.parse(Task.NER, out, new OutputParser.Context(text, Schema.NONE, false));
    }

    private static ParseResult rte(String out, String text) {
        return OutputParser.parse(Task.RTE, out, new OutputParser.Context(text, Schema.NONE, false));
    }

    private static List<String> entities(ParseResult r) {
        return r.entities().stream().map(e -> e.key().toString()).toList();
    }

    private static List<String> triples(ParseResult r) {
        return r.triples().stream().map(Triple::toString).toList();
    }

    private static boolean has(ParseResult r, Kind k) {
        return r.problems().stream().anyMatch(p -> p.kind() == k);
    }

    @Test
    void canonicalSyntaxRoundTrips() {
        List<Entity> es = List.of(Entity.of("person", "Ada Brook"), Entity.of("location", "Harlow"),
                Entity.of("organization", "Norell Labs"));
        ParseResult r = ner(OutputFormat.entities(es, "en"), EN);
        assertTrue(r.canonical(), r.problems().toString());
        assertEquals(List.of("person: Ada Brook", "location: Harlow", "organization: Norell Labs"), entities(r));
        assertEquals(0, r.entities().get(0).start());
        assertEquals(9, r.entities().get(0).end());

        List<Triple> ts = List.of(new Triple("Ada Brook", "born in", "Harlow"), new Triple("Ada Brook", "works for", "Norell Labs"));
        ParseResult t = rte(OutputFormat.triples(ts, "en"), EN);
        assertTrue(t.canonical(), t.problems().toString());
        assertEquals(ts, t.triples());
    }

    @Test
    void noneAnswersAreEmptyAndClean() {
        for (String none : new String[] {"none", "None.", "无", "无。", "[]", "", "  "}) {
            assertTrue(ner(none, EN).canonical(), none);
            assertTrue(ner(none, EN).entities().isEmpty(), none);
            assertTrue(rte(none, EN).triples().isEmpty(), none);
        }
        assertEquals("无", OutputFormat.entities(List.of(), "zh"));
        assertEquals("none", OutputFormat.triples(List.of(), "en"));
    }

    @Test
    void chatterAroundTheAnswerIsIgnoredAndFlagged() {
        ParseResult r = ner("Sure! Here are the entities: person: Ada Brook; location: Harlow. Hope this helps!", EN);
        assertEquals(List.of("person: Ada Brook", "location: Harlow"), entities(r));
        assertTrue(r.wellFormed(), r.problems().toString());
        assertTrue(has(r, Kind.EXTRA_TEXT));

        ParseResult t = rte("The triples are: (Ada Brook, born in, Harlow); (Ada Brook, works for, Norell Labs). Done.", EN);
        assertEquals(List.of("(Ada Brook, born in, Harlow)", "(Ada Brook, works for, Norell Labs)"), triples(t));
        assertTrue(t.wellFormed());
        assertTrue(has(t, Kind.EXTRA_TEXT));
    }

    @Test
    void newlinesBulletsAndCommaSeparatedPairs() {
        ParseResult r = ner("Entities:\n- person: Ada Brook\n- location: Harlow\n", EN);
        assertEquals(List.of("person: Ada Brook", "location: Harlow"), entities(r));
        ParseResult c = ner("person: Ada Brook, location: Harlow, organization: Norell Labs", EN);
        assertEquals(List.of("person: Ada Brook", "location: Harlow", "organization: Norell Labs"), entities(c));
    }

    @Test
    void severalEntitiesAfterOneTypeAreSplitWhenTheTextSaysSo() {
        String text = "Ada Brook and Liam Carter met in Harlow.";
        ParseResult r = ner("person: Ada Brook, Liam Carter; location: Harlow", text);
        assertEquals(List.of("person: Ada Brook", "person: Liam Carter", "location: Harlow"), entities(r));
        assertTrue(has(r, Kind.LIST_VALUE));
        // A name that itself holds a comma stays whole.
        ParseResult one = ner("organization: Brook, Carter and Sons", "She works at Brook, Carter and Sons.");
        assertEquals(List.of("organization: Brook, Carter and Sons"), entities(one));
    }

    @Test
    void truncatedListsLoseOnlyTheCutItem() {
        ParseResult r = OutputParser.parse(Task.NER, "person: Ada Brook; location: Harlow; organization: Nor",
                new OutputParser.Context(EN, Schema.NONE, true));
        assertEquals(List.of("person: Ada Brook", "location: Harlow"), entities(r));
        assertFalse(r.wellFormed());
        assertTrue(has(r, Kind.TRUNCATED));

        ParseResult t = rte("(Ada Brook, born in, Harlow); (Ada Brook, works", EN);
        assertEquals(List.of("(Ada Brook, born in, Harlow)"), triples(t));
        assertFalse(t.wellFormed());
        assertTrue(has(t, Kind.UNCLOSED));

        ParseResult cut = OutputParser.parse(Task.RTE, "(Ada Brook, born in, Harlow); (Ada Brook, works for, Norell",
                new OutputParser.Context(EN, Schema.NONE, true));
        assertEquals(1, cut.triples().size());
        assertTrue(has(cut, Kind.TRUNCATED));

        ParseResult missingType = ner("person: Ada Brook; location:", EN);
        assertEquals(List.of("person: Ada Brook"), entities(missingType));
        assertTrue(has(missingType, Kind.EMPTY_VALUE));
    }

    @Test
    void anUnclosedLastTripleWithThreeElementsIsKeptWhenGenerationEnded() {
        ParseResult t = rte("(Ada Brook, born in, Harlow", EN);
        assertEquals(List.of("(Ada Brook, born in, Harlow)"), triples(t));
        assertTrue(t.wellFormed());
        assertTrue(has(t, Kind.UNCLOSED));
    }

    @Test
    void wrongBracketsAndListWrappers() {
        ParseResult sq = rte("[Ada Brook, born in, Harlow]; {Ada Brook, works for, Norell Labs}", EN);
        assertEquals(List.of("(Ada Brook, born in, Harlow)", "(Ada Brook, works for, Norell Labs)"), triples(sq));
        assertTrue(has(sq, Kind.WRONG_BRACKETS));
        ParseResult mixed = rte("(Ada Brook, born in, Harlow]", EN);
        assertEquals(1, mixed.triples().size());
        ParseResult list = rte("[(Ada Brook, born in, Harlow), (Ada Brook, works for, Norell Labs)]", EN);
        assertEquals(2, list.triples().size());
        assertFalse(has(list, Kind.WRONG_BRACKETS));
        ParseResult three = rte("[[\"Ada Brook\", \"born in\", \"Harlow\"], [\"Ada Brook\", \"works for\", \"Norell Labs\"],"
                + " [\"Norell Labs\", \"located in\", \"Harlow\"]]", EN);
        assertEquals(3, three.triples().size());
        assertEquals("Norell Labs", three.triples().get(2).head());
    }

    @Test
    void namesWithBracketsInsideTriples() {
        String text = "Orion Health (UK) is headquartered in Harlow.";
        ParseResult t = rte("(Orion Health (UK), located in, Harlow)", text);
        assertEquals(List.of("(Orion Health (UK), located in, Harlow)"), triples(t));
        assertTrue(t.canonical(), t.problems().toString());
    }

    @Test
    void commasInsideNamesAreResolvedAgainstTheSentence() {
        String text = "Brook, Carter and Sons is headquartered in Harlow.";
        ParseResult t = rte("(Brook, Carter and Sons, located in, Harlow)", text);
        assertEquals(List.of("(Brook, Carter and Sons, located in, Harlow)"), triples(t));
        assertTrue(t.wellFormed());
        ParseResult unknown = OutputParser.parse(Task.RTE, "(a, b, c, d)", OutputParser.Context.NONE);
        assertTrue(unknown.triples().isEmpty());
        assertFalse(unknown.wellFormed());
    }

    @Test
    void chinesePunctuation() {
        ParseResult r = ner("人物：周婷；地点：北京；机构：华光大学。", ZH);
        assertEquals(List.of("人物: 周婷", "地点: 北京", "机构: 华光大学"), entities(r));
        assertTrue(r.wellFormed());
        ParseResult list = ner("人物：周婷、李华", "周婷和李华在北京。");
        assertEquals(List.of("人物: 周婷", "人物: 李华"), entities(list));
        ParseResult t = rte("（周婷，出生于，北京）；（周婷，就职于，华光大学）", ZH);
        assertEquals(List.of("(周婷, 出生于, 北京)", "(周婷, 就职于, 华光大学)"), triples(t));
        assertTrue(t.wellFormed(), t.problems().toString());
        ParseResult book = rte("(周婷, 创作, 《北京故事》)", "周婷创作了《北京故事》。");
        assertEquals("《北京故事》", book.triples().get(0).tail());
        ParseResult dun = rte("【周婷、出生于、北京】", ZH);
        assertEquals(List.of("(周婷, 出生于, 北京)"), triples(dun));
    }

    @Test
    void duplicatesAreRemovedAndFlagged() {
        ParseResult r = ner("person: Ada Brook; person: Ada Brook; location: Harlow", EN);
        assertEquals(2, r.entities().size());
        assertTrue(has(r, Kind.DUPLICATE));
        assertTrue(r.wellFormed());
        ParseResult t = rte("(Ada Brook, born in, Harlow); (Ada Brook,  born in , Harlow)", EN);
        assertEquals(1, t.triples().size());
    }

    @Test
    void itemsOutsideTheTextOrSchemaAreKeptButFlagged() {
        Schema schema = new Schema(List.of("person", "location"), List.of("born in"));
        ParseResult r = OutputParser.parse(Task.NER, "person: Ada Brook; city: Harlow; person: Mark Twain",
                new OutputParser.Context(EN, schema, false));
        assertEquals(3, r.entities().size());
        assertTrue(has(r, Kind.UNKNOWN_TYPE));
        assertTrue(has(r, Kind.NOT_IN_TEXT));
        assertTrue(r.wellFormed());
        ParseResult t = OutputParser.parse(Task.RTE, "(Ada Brook, lives in, Harlow)", new OutputParser.Context(EN, schema, false));
        assertEquals(1, t.triples().size());
        assertTrue(has(t, Kind.UNKNOWN_RELATION));
    }

    @Test
    void jsonAnswersAreRead() {
        ParseResult r = ner("{\"person\": [\"Ada Brook\"], \"location\": \"Harlow\"}", EN);
        assertEquals(List.of("person: Ada Brook", "location: Harlow"), entities(r));
        assertTrue(has(r, Kind.JSON));
        ParseResult t = rte("[{\"subject\": \"Ada Brook\", \"predicate\": \"born in\", \"object\": \"Harlow\"}]", EN);
        assertEquals(List.of("(Ada Brook, born in, Harlow)"), triples(t));
    }

    @Test
    void answersOfTheOtherTaskFindNothing() {
        ParseResult t = rte("person: Ada Brook; location: Harlow", EN);
        assertTrue(t.triples().isEmpty());
        assertTrue(has(t, Kind.NOTHING_FOUND));
        assertFalse(t.wellFormed());
        ParseResult n = ner("(Ada Brook, born in, Harlow)", EN);
        assertTrue(n.entities().isEmpty());
        assertFalse(n.wellFormed());
    }

    @Test
    void unbracketedTriplesAreRead() {
        ParseResult t = rte("Ada Brook, born in, Harlow\nAda Brook, works for, Norell Labs", EN);
        assertEquals(2, t.triples().size());
        assertTrue(has(t, Kind.UNBRACKETED));
    }

    @Test
    void degenerateGenerationsNeverThrow() {
        String[] odd = {"(((", ")))", "((a, b, c)", ":::", ";;;", "person:", ": Ada", "（，，）", "[{(", "\u0000\uFFFF",
            "person: Ada Brook;;;;; ;", "(Ada, born in, Harlow))))", "ceivedceivedceived", "{\"person\": 5}", "[1, 2, 3]"};
        for (String s : odd) {
            for (Task task : Task.values()) {
                ParseResult r = OutputParser.parse(task, s, new OutputParser.Context(EN, Schema.NONE, true));
                assertTrue(r.problems().stream().noneMatch(p -> p.kind() == Kind.PARSER_ERROR), s + " " + r.problems());
            }
        }
        // Random strings over the characters the syntax uses.
        String alphabet = "ab ():;,.[]{}（）：；，、\n\"'人物Ada";
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = rnd.nextInt(40); k > 0; k--) {
                sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            for (Task task : Task.values()) {
                ParseResult r = OutputParser.parse(task, sb.toString(), new OutputParser.Context(
                        rnd.nextBoolean() ? EN : null, Schema.NONE, rnd.nextBoolean()));
                assertTrue(r.problems().stream().noneMatch(p -> p.kind() == Kind.PARSER_ERROR),
                        "'" + sb + "': " + r.problems());
            }
        }
    }
}
