package dev.ascendj.data.extract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.core.Ops;
import dev.ascendj.cpu.CpuBackend;
import dev.ascendj.data.InstructionTemplates;
import dev.ascendj.data.Schema;
import dev.ascendj.data.Task;
import dev.ascendj.model.Generator;
import dev.ascendj.model.LlamaConfig;
import dev.ascendj.model.LlamaModel;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Extraction with an untrained tiny model: whatever it generates, the result is reported, never thrown. */
class ExtractorTest {
    private static LlamaTokenizer tokenizer;
    private final CpuBackend backend = new CpuBackend(1);

    @BeforeAll
    static void load() {
        tokenizer = LlamaTokenizer.load(Path.of("../../examples/tokenizer/tokenizer.json"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private LlamaModel tiny() {
        return LlamaModel.initialize(LlamaConfig.builder().kvHeads(2).vocab(tokenizer.vocabSize()).positions(96).build(),
                backend.device(0), 3, null);
    }

    @Test
    void randomGenerationsAreParsedAndReported() {
        Ops ops = backend.ops();
        Schema schema = new Schema(List.of("person", "location"), List.of("born in"));
        try (LlamaModel m = tiny()) {
            Extractor x = new Extractor(m, ops, tokenizer, Generator.Options.greedy(12));
            for (Task t : Task.values()) {
                Extraction e = x.extract("s1", t, "Ada Brook was born in Harlow.", null, schema);
                assertNull(e.error());
                assertEquals(InstructionTemplates.first(t, "en", schema), e.instruction());
                assertNotNull(e.parsed());
                // An untrained model does not stop by itself within 12 tokens.
                assertTrue(e.truncated() || e.generation().length() < 200);
                ObjectNode json = e.toJson(new ObjectMapper());
                assertEquals("s1", json.get("id").asText());
                assertEquals(t.id(), json.get("task").asText());
                assertTrue(json.has(t == Task.NER ? "entities" : "triples"));
                assertTrue(json.get("problems").isArray());
                assertEquals(e.parsed().wellFormed(), json.get("wellFormed").asBoolean());
            }
        }
    }

    @Test
    void aPromptThatDoesNotFitIsAnErrorInTheResult() {
        try (LlamaModel m = tiny()) {
            Extractor x = new Extractor(m, backend.ops(), tokenizer, Generator.Options.greedy(16));
            String longText = "Ada Brook was born in Harlow. ".repeat(20);
            Extraction e = x.extract(null, Task.RTE, longText, "Extract the triples.", Schema.NONE);
            assertNotNull(e.error());
            assertTrue(e.error().contains("exceeds the model's 96 positions"), e.error());
            assertFalse(e.toJson(new ObjectMapper()).get("wellFormed").asBoolean());
            assertEquals("Extract the triples.", e.instruction());
        }
    }

    @Test
    void batchedExtractionGivesEachPassageItsSoloResultInInputOrder() {
        try (LlamaModel m = tiny()) {
            Extractor x = new Extractor(m, backend.ops(), tokenizer, Generator.Options.greedy(10));
            String[] texts = {"Ada Brook was born in Harlow.", "Liam works for Norell Labs in Kent.",
                "Ada Brook was born in Harlow. ".repeat(20), "王芳出生于广州。", "Omar met Ada."};
            java.util.List<Extractor.Job> jobs = new java.util.ArrayList<>();
            for (int i = 0; i < texts.length; i++) {
                jobs.add(new Extractor.Job(new Passage(i + 1, "s" + i, 0, 0, texts[i].length(), texts[i]), Task.NER, null,
                        Schema.NONE));
            }
            java.util.List<Extraction> batched = new java.util.ArrayList<>();
            x.extractAll(jobs.iterator(), 3, batched::add);
            assertEquals(texts.length, batched.size());
            for (int i = 0; i < texts.length; i++) {
                Extraction solo = x.extract("s" + i, Task.NER, texts[i], null, Schema.NONE);
                Extraction b = batched.get(i);
                assertEquals("s" + i, b.id());
                assertEquals(i + 1, b.passage().line());
                assertEquals(solo.generation(), b.generation(), "passage " + i);
                assertEquals(solo.error(), b.error());
                assertEquals(i + 1, b.toJson(new ObjectMapper()).get("line").asInt());
            }
            assertNotNull(batched.get(2).error(), "the long passage does not fit and is reported in its place");
            assertTrue(!x.fits(Task.NER, texts[2], null, Schema.NONE) && x.fits(Task.NER, texts[0], null, Schema.NONE));
        }
    }
}
