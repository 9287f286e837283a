package dev.ascendj.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InstructionTemplatesTest {
    private static final Schema EN = new Schema(List.of("person", "location", "organization"), List.of("born in", "works for"));
    private static final Schema ZH = new Schema(List.of("人物", "地点", "机构"), List.of("出生于"));

    @Test
    void schemaPlaceholdersAreFilledOrTheTemplateSkipped() {
        List<String> withSchema = InstructionTemplates.candidates(Task.NER, "en", EN);
        assertEquals("Extract the named entities (person, location, organization) from the text.", withSchema.get(0));
        assertEquals("List every person, location and organization mentioned in the sentence.", withSchema.get(1));
        List<String> without = InstructionTemplates.candidates(Task.NER, "en", Schema.NONE);
        assertTrue(without.size() >= 2);
        assertTrue(without.stream().noneMatch(t -> t.contains("{")), without.toString());
        assertEquals("请抽取文本中的命名实体（人物、地点、机构）。", InstructionTemplates.first(Task.NER, "zh", ZH));
        assertTrue(InstructionTemplates.candidates(Task.RTE, "zh", ZH).stream().anyMatch(t -> t.contains("出生于")));
        assertTrue(InstructionTemplates.candidates(Task.RTE, "en", EN).stream().anyMatch(t -> t.endsWith("born in, works for.")));
        for (Task t : Task.values()) {
            for (String lang : new String[] {"en", "zh"}) {
                assertTrue(InstructionTemplates.candidates(t, lang, Schema.NONE).size() >= 2, t + " " + lang);
            }
        }
    }

    @Test
    void choiceIsSeededPerExampleAndCoversTheTemplates() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String a = InstructionTemplates.choose(Task.RTE, "en", EN, 7, "sentence " + i);
            assertEquals(a, InstructionTemplates.choose(Task.RTE, "en", EN, 7, "sentence " + i));
            seen.add(a);
        }
        assertEquals(new HashSet<>(InstructionTemplates.candidates(Task.RTE, "en", EN)), seen);
    }

    @Test
    void everyTemplateAsksForItsOwnTask() {
        for (Task t : Task.values()) {
            for (String lang : new String[] {"en", "zh"}) {
                for (String ins : InstructionTemplates.candidates(t, lang, lang.equals("en") ? EN : ZH)) {
                    assertEquals(t, InstructionTemplates.guessTask(ins), ins);
                }
            }
        }
        assertNull(InstructionTemplates.guessTask("Summarise the text."));
    }

    @Test
    void languageDetection() {
        assertEquals("zh", TextNorm.language("周婷出生于北京。"));
        assertEquals("zh", TextNorm.language("张明 works at 星海科技"));
        assertEquals("en", TextNorm.language("Ada Brook was born in Harlow."));
        assertEquals("en", TextNorm.language("1234"));
    }
}
