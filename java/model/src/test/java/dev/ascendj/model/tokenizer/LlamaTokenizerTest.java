package dev.ascendj.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.StrictReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LlamaTokenizerTest {
    private static LlamaTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tok = LlamaTokenizer.load(ShippedTokenizer.dir());
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void vocabularyAndSpecialTokens() {
        JsonNode json = StrictReader.readTree(ShippedTokenizer.dir().resolve("tokenizer.json"), StrictReader.Syntax.JSON, "t", 1 << 22);
        int max = 0;
        for (Map.Entry<String, JsonNode> e : json.get("model").get("vocab").properties()) {
            max = Math.max(max, e.getValue().intValue());
        }
        assertEquals(max + 1, tok.vocabSize());
        assertEquals(0, tok.unkId());
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(OptionalInt.empty(), tok.padId());
        assertEquals(Set.of("<unk>", "<s>", "</s>"), tok.specialTokens());
        assertEquals(OptionalInt.of(3 + 0x41), tok.tokenId("<0x41>"));
        assertEquals("<0x0A>", tok.token(3 + 0x0A));
        assertEquals(OptionalInt.empty(), tok.tokenId("no such token"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "Marie Curie was born in Warsaw in 1867.",
        "Extract the entities and the (head, relation, tail) triples from the sentence.",
        "The quick brown fox jumps over the lazy dog; \"quotes\", apostrophes' and $ymbols & 100% more!",
        "北京是中国的首都，也是一座历史悠久的城市。",
        "我爱吃饺子和火锅。",
        "Mixed 中文 and English, emoji \uD83D\uDE00 too.",
        "  leading spaces, double  spaces,\ttabs\nand\n\nnewlines  ",
        "",
    })
    void encodeDecodeRoundTrip(String text) {
        int[] ids = tok.encode(text);
        assertEquals(text, tok.decode(ids));
        int[] withBos = tok.encode(text, true);
        assertEquals(tok.bosId(), withBos[0]);
        assertArrayEquals(ids, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
        assertEquals(text, tok.decode(withBos));
        assertTrue(tok.decode(withBos, false).startsWith("<s>"), tok.decode(withBos, false));
        for (int id : ids) {
            assertTrue(id >= 0 && id < tok.vocabSize());
        }
    }

    @Test
    void wordsTheTokenizerWasTrainedOnAreSingleTokens() {
        assertEquals(List.of("\u2581Marie", "\u2581Curie", "\u2581was", "\u2581born", "\u2581in", "\u2581Warsaw"),
                tok.tokens("Marie Curie was born in Warsaw"));
        // digits are never merged
        assertEquals(List.of("\u2581", "1", "8", "6", "7"), tok.tokens("1867"));
    }

    @Test
    void unknownCharactersFallBackToTheirUtf8Bytes() {
        // 饺 is U+997A, UTF-8 E9 A5 BA, and not in the vocabulary
        assertFalse(tok.tokenId("饺").isPresent());
        List<String> tokens = tok.tokens("饺");
        assertEquals(List.of("\u2581", "<0xE9>", "<0xA5>", "<0xBA>"), tokens);
        assertFalse(tokens.contains("<unk>"));
    }

    @Test
    void longTextsAreNotTruncated() {
        String text = "Marie Curie was born in Warsaw. ".repeat(400).strip();
        int[] ids = tok.encode(text, true);
        assertTrue(ids.length > 2000, "got " + ids.length);
        assertEquals(text, tok.decode(ids));
    }

    @Test
    void badIdsAndUseAfterClose() {
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {5, tok.vocabSize()}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
        LlamaTokenizer other = LlamaTokenizer.load(ShippedTokenizer.dir().resolve("tokenizer.json"));
        other.close();
        assertThrows(IllegalStateException.class, () -> other.encode("x"));
    }

    /** A BPE small enough to tokenize by hand: the expected ids do not come from the library. */
    @Test
    void handWrittenBpeGivesTheIdsItsMergesDefine() throws IOException {
        String json = """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [
                   {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                   {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                   {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": {"type": "Sequence", "normalizers": [
                   {"type": "Prepend", "prepend": "\u2581"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
                 "pre_tokenizer": null,
                 "post_processor": {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                            {"Sequence": {"id": "B", "type_id": 1}}],
                   "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
                 "decoder": {"type": "Sequence", "decoders": [
                   {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                   {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                 "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
                   "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": false,
                   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "\u2581": 3, "a": 4, "b": 5, "c": 6, "ab": 7, "\u2581ab": 8},
                   "merges": ["a b", "\u2581 ab"]}}
                """;
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json);
        try (LlamaTokenizer t = LlamaTokenizer.load(dir)) {
            assertEquals(9, t.vocabSize());
            // "ab c" -> "▁ab▁c": a+b first (rank 0), then ▁+ab; "▁" and "c" stay apart (no such merge)
            assertArrayEquals(new int[] {8, 3, 6}, t.encode("ab c"));
            assertArrayEquals(new int[] {1, 8, 3, 6}, t.encode("ab c", true));
            assertArrayEquals(new int[] {3, 4, 8}, t.encode("a ab"));
            assertArrayEquals(new int[] {3, 6, 0}, t.encode("cxx"), "unknown characters fuse into one <unk>");
            assertEquals("ab c", t.decode(new int[] {1, 8, 3, 6}));
        }
    }

    @Test
    void specialTokensFromTokenizerConfig() throws IOException {
        Path src = ShippedTokenizer.dir().resolve("tokenizer.json");
        Files.copy(src, dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"<unk>\", \"pad_token\": \"</s>\"}");
        try (LlamaTokenizer t = LlamaTokenizer.load(dir)) {
            assertEquals(1, t.bosId());
            assertEquals(0, t.eosId());
            assertEquals(OptionalInt.of(2), t.padId());
        }
    }
}
