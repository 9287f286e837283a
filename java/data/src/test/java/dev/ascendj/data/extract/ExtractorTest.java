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
    private final CpuBackend backend = new CpuBackend(1, false);

    @BeforeAll
    static void load() {
        tokenizer = LlamaTokenizer.load(Path.of("../../examples/tokenizer/tokenizer.json"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private LlamaModel tiny() {
        return LlamaModel.initialize(new LlamaConfig(32, 64, 2, 4, 2, tokenizer.vocabSize(), 1e-5, 10000, null, false, 96),
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
}
