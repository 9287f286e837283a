package dev.ascendj.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PromptTemplateTest {
    private static LlamaTokenizer tok;
    private static final String SYS = "You extract entities and relation triples from text.";
    private static final String INS = "Extract the entities and the (head, relation, tail) triples from the sentence.";
    private static final String IN = "Marie Curie was born in Warsaw in 1867.";
    private static final String OUT = "Entities: Marie Curie; Warsaw\nTriples:\n(Marie Curie, born in, Warsaw)";

    @BeforeAll
    static void load() {
        tok = LlamaTokenizer.load(ShippedTokenizer.dir());
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void rendersTheLlama2Format() {
        PromptTemplate t = PromptTemplate.llama2(SYS);
        assertEquals("[INST] <<SYS>>\n" + SYS + "\n<</SYS>>\n\n" + INS + "\n" + IN + " [/INST]", t.renderPrompt(INS, IN));
        assertEquals("[INST] <<SYS>>\n" + SYS + "\n<</SYS>>\n\n" + INS + "\n" + IN + " [/INST] " + OUT,
                t.render(INS, IN, OUT));
        assertEquals("[INST] " + INS + " [/INST]", PromptTemplate.llama2().renderPrompt(INS, ""));
        assertEquals("[INST] " + INS + " [/INST]", PromptTemplate.llama2("  ").renderPrompt("  " + INS + "\n", null));
        assertEquals("[INST] " + INS + "\n" + IN + " [/INST] " + OUT,
                PromptTemplate.llama2().render(INS, "\n" + IN + "  ", " " + OUT + "\n"));
        assertNull(PromptTemplate.llama2().systemPrompt());
        assertThrows(IllegalArgumentException.class, () -> t.renderPrompt(" \n", IN));
        assertThrows(NullPointerException.class, () -> t.render(INS, IN, null));
    }

    @Test
    void exampleIsBosPromptResponseEos() {
        PromptTemplate t = PromptTemplate.llama2(SYS);
        PromptTemplate.Example ex = t.encode(tok, INS, IN, OUT);
        int[] prompt = tok.encode(t.renderPrompt(INS, IN));
        int[] response = tok.encode(OUT);
        int[] ids = ex.ids();
        assertEquals(1 + prompt.length + response.length + 1, ids.length);
        assertEquals(tok.bosId(), ids[0]);
        assertArrayEquals(prompt, Arrays.copyOfRange(ids, 1, 1 + prompt.length));
        assertArrayEquals(response, Arrays.copyOfRange(ids, 1 + prompt.length, ids.length - 1));
        assertEquals(tok.eosId(), ids[ids.length - 1]);
        assertEquals(1 + prompt.length, ex.promptLength());

        int[] labels = ex.labels();
        for (int i = 0; i < ids.length; i++) {
            assertEquals(i < ex.promptLength() ? PromptTemplate.IGNORE_INDEX : ids[i], labels[i], "label " + i);
        }
        assertEquals(OUT, tok.decode(ex.responseIds()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Extract the triples.|Alan Turing studied mathematics at King's College.|(Alan Turing, studied, mathematics)",
        "List the entities.||Entities: Beijing; China",
        "请抽取实体和关系。|北京是中国的首都。|(北京, 首都, 中国)",
        "Answer briefly.|  spaced  input |  An answer with  two spaces ",
    })
    void boundaryIsExactAndMatchesTokenizingTheWholeText(String instruction, String input, String output) {
        PromptTemplate t = PromptTemplate.llama2(SYS);
        PromptTemplate.Example ex = t.encode(tok, instruction, input, output);
        String full = t.render(instruction, input, output);
        // the ids decode to the rendered text: prompt and response meet at the right place
        assertEquals(full, tok.decode(ex.ids()));
        // generation starts from exactly the prompt part of the training example
        int[] prompt = t.encodePrompt(tok, instruction, input);
        assertArrayEquals(prompt, Arrays.copyOf(ex.ids(), ex.promptLength()));
        assertEquals(t.renderPrompt(instruction, input), tok.decode(prompt));
        // and, for this SentencePiece-style tokenizer, separate tokenization equals whole-text tokenization
        int[] whole = tok.encode(full, true);
        assertArrayEquals(whole, Arrays.copyOf(ex.ids(), ex.length() - 1));
    }

    @Test
    void truncation() {
        PromptTemplate.Example ex = PromptTemplate.llama2().encode(tok, INS, IN, OUT);
        int p = ex.promptLength();
        assertSame(ex, ex.truncated(ex.length()));
        PromptTemplate.Example cut = ex.truncated(p + 2);
        assertEquals(p + 2, cut.length());
        assertEquals(p, cut.promptLength());
        assertArrayEquals(Arrays.copyOf(ex.ids(), p + 2), cut.ids());
        PromptTemplate.Example promptOnly = ex.truncated(p - 3);
        assertEquals(p - 3, promptOnly.promptLength());
        assertEquals(0, promptOnly.responseIds().length);
        assertThrows(IllegalArgumentException.class, () -> ex.truncated(-1));
    }
}
