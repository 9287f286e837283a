package dev.ascendj.data.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.data.Entity;
import dev.ascendj.data.KgSample;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.data.Triple;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValidatorTest {
    private static KgSample ner(String text, Entity... es) {
        return KgSample.of("t:1", Task.NER, "g", text, List.of(es), List.of());
    }

    @Test
    void namesTheSyntaxCannotCarryAreUnrepresentable() {
        Validator.Outcome o = Validator.check(ner("They met at Brook; Carter and Sons.",
                Entity.of("organization", "Brook; Carter and Sons")), Schema.NONE, false);
        assertEquals(Reason.UNREPRESENTABLE, o.reason());
        assertTrue(o.detail().contains("reads back as"), o.detail());
        Validator.Outcome t = Validator.check(KgSample.of("t:2", Task.RTE, "g", "Ada (born 1990) lives in Harlow.",
                List.of(), List.of(new Triple("Ada", "lives in", "Harlow"))), Schema.NONE, false);
        assertTrue(t.accepted());
    }

    @Test
    void repeatedEntitiesAreKeptOnceAndTheAnswerIsCanonical() {
        Validator.Outcome o = Validator.check(ner("Ada met Ada in Harlow.", new Entity("person", "Ada", 0, 3),
                new Entity("person", "Ada", 8, 11), new Entity("location", "Harlow", 15, 21)), Schema.NONE, false);
        assertTrue(o.accepted(), o.detail());
        assertEquals("person: Ada; location: Harlow", o.output());
        assertEquals(2, o.sample().entities().size());
        assertFalse(o.rewritten());
        Validator.Outcome none = Validator.check(ner("周婷很好。"), Schema.NONE, false);
        assertEquals("无", none.output());
    }

    @Test
    void typedRelationArgumentsAreCheckedAgainstTheSchema() {
        Schema med = new Schema(List.of("drug", "disease"), List.of("treats"));
        KgSample s = new KgSample("t:3", Task.RTE, "medical", "en", "Aspirin treats migraine.",
                List.of(Entity.of("drug", "Aspirin"), Entity.of("illness", "migraine")),
                List.of(new Triple("Aspirin", "treats", "migraine")), null, null);
        assertEquals(Reason.UNKNOWN_ENTITY_TYPE, Validator.check(s, med, false).reason());
        assertTrue(Validator.check(s, Schema.NONE, false).accepted());
    }
}
