package dev.ascendj.train.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.data.InstructionRecord;
import dev.ascendj.model.tokenizer.LlamaTokenizer;
import dev.ascendj.model.tokenizer.PromptTemplate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InstructionLoaderTest {
    private static LlamaTokenizer tokenizer;
    private static final PromptTemplate TEMPLATE = PromptTemplate.llama2();

    @BeforeAll
    static void load() {
        tokenizer = LlamaTokenizer.load(Path.of("../../examples/tokenizer/tokenizer.json"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static List<InstructionRecord> records(int n) {
        List<InstructionRecord> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new InstructionRecord("Extract the triples.", "Ada Brook was born in Harlow " + i + ".",
                    "(Ada Brook, born in, Harlow)"));
        }
        return list;
    }

    @Test
    void paddedRowsTakeLossOnlyOnTheShiftedResponse() {
        List<InstructionRecord> recs = records(1);
        InstructionLoader loader = new InstructionLoader(recs, tokenizer, TEMPLATE, 96, InstructionLoader.Mode.PADDED, 1);
        Batch b = loader.next(1);
        PromptTemplate.Example e = TEMPLATE.encode(tokenizer, recs.get(0).instruction(), recs.get(0).input(),
                recs.get(0).output());
        int[] ids = e.ids();
        int[] labels = e.labels();
        assertTrue(ids.length <= 97, "example fits the row");
        for (int i = 0; i < 96; i++) {
            int expectedId = i < ids.length ? ids[i] : tokenizer.eosId();
            int expectedTarget = i + 1 < ids.length ? labels[i + 1] : -100;
            assertEquals(expectedId, b.ids()[i], "id " + i);
            assertEquals(expectedTarget, b.targets()[i], "target " + i);
        }
        assertEquals(e.length() - e.promptLength(), b.lossTokens(), "the response and EOS carry loss");
    }

    @Test
    void packedRowsHoldSeveralExamplesWithoutCrossTargets() {
        InstructionLoader loader = new InstructionLoader(records(8), tokenizer, TEMPLATE, 200,
                InstructionLoader.Mode.PACKED, 1);
        Batch b = loader.next(1);
        int bos = 0;
        for (int i = 0; i < 200; i++) {
            if (b.ids()[i] == tokenizer.bosId()) {
                bos++;
                if (i > 0) {
                    assertEquals(-100, b.targets()[i - 1], "no position predicts the next example's BOS");
                }
            }
        }
        assertTrue(bos >= 2, "several examples in one packed row, got " + bos);
    }

    @Test
    void shufflingIsSeededAndTheStateRestoresExactly() {
        InstructionLoader a = new InstructionLoader(records(20), tokenizer, TEMPLATE, 64, InstructionLoader.Mode.PADDED, 3);
        InstructionLoader b = new InstructionLoader(records(20), tokenizer, TEMPLATE, 64, InstructionLoader.Mode.PADDED, 3);
        InstructionLoader c = new InstructionLoader(records(20), tokenizer, TEMPLATE, 64, InstructionLoader.Mode.PADDED, 4);
        assertArrayEquals(a.next(4).ids(), b.next(4).ids());
        assertNotEquals(java.util.Arrays.toString(b.next(4).ids()), java.util.Arrays.toString(c.next(4).ids()));
        for (int i = 0; i < 7; i++) {
            a.next(4); // crosses an epoch boundary (20 examples)
        }
        DataPosition s = a.position();
        assertTrue(s.epoch() >= 1);
        Batch expected = a.next(4);
        b.seek(s);
        Batch again = b.next(4);
        assertArrayEquals(expected.ids(), again.ids());
        assertArrayEquals(expected.targets(), again.targets());
    }
}
