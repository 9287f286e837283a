package dev.ascendj.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.model.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broken tokenizer.json gives a FormatException naming the file and the problem. */
class LlamaTokenizerMalformedTest {
    @TempDir
    Path dir;

    private static final String SPECIALS = "\"added_tokens\": [" + added(0, "<unk>") + ", " + added(1, "<s>") + ", "
            + added(2, "</s>") + "]";

    private static String added(int id, String content) {
        return "{\"id\": " + id + ", \"content\": \"" + content + "\", \"single_word\": false, \"lstrip\": false,"
                + " \"rstrip\": false, \"normalized\": false, \"special\": true}";
    }

    private Path write(String json) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        return f;
    }

    private static FormatException fails(Path file, String... parts) {
        FormatException e = assertThrows(FormatException.class, () -> LlamaTokenizer.load(file).close());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void missingFile() {
        FormatException e = fails(dir, "no such file");
        assertEquals(dir.resolve("tokenizer.json"), e.file());
    }

    @Test
    void notJsonOrNotATokenizer() throws IOException {
        Path f = write("{\"model\": {\"type\": \"BPE\", \"vocab\": {");
        fails(f, f.toString(), "tokenizer file is not valid JSON");
        fails(write("[1, 2]"), "tokenizer file is a JSON array, expected an object");
        fails(write("{\"version\": \"1.0\"}"), "\"model\" is missing", "not a Hugging Face tokenizer.json");
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": 5}}"), "model.vocab is number in a BPE model");
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}"), "the vocabulary is empty");
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1, \"a\": 2}}}"), "key 'a' appears twice");
    }

    @Test
    void badIds() throws IOException {
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}"), "token 'a'", "has id -1");
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}}"), "token 'a'", "has id \"x\"");
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}}}"), "token 'b'",
                "has id 0, which 'a' has too");
        fails(write("{" + SPECIALS + ", \"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"<s>\": 5}}}"),
                "token '<s>'", "has two ids, 5 and 1");
        fails(write("{\"added_tokens\": {}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}"),
                "added_tokens is a JSON object, expected an array");
    }

    @Test
    void missingSpecialTokens() throws IOException {
        fails(write("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"</s>\": 2, \"a\": 3}}}"),
                "token '<s>'", "is the BOS token but is not in the vocabulary");
        write("{" + SPECIALS + ", \"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2}}}");
        Path config = dir.resolve("tokenizer_config.json");
        Files.writeString(config, "{\"eos_token\": \"<|eot|>\"}");
        fails(dir, "token '<|eot|>'", "is the EOS token");
        Files.writeString(config, "{\"eos_token\": 7}");
        fails(dir, config.toString(), "eos_token is a JSON number");
        Files.writeString(config, "{\"eos_token\": ");
        fails(dir, config.toString(), "tokenizer config is not valid JSON");
    }

    @Test
    void fileTheNativeLibraryRejects() throws IOException {
        // well-formed for our checks, but a merge names tokens the vocabulary lacks
        Path f = write("{" + SPECIALS + ", \"normalizer\": null, \"pre_tokenizer\": null, \"post_processor\": null,"
                + " \"decoder\": null, \"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2,"
                + " \"a\": 3}, \"merges\": [\"a zz\"]}}");
        fails(f, f.toString(), "the tokenizers library rejects it", "zz");
        Path g = write("{" + SPECIALS + ", \"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"<unk>\": 0, \"<s>\": 1,"
                + " \"</s>\": 2}}}");
        fails(g, "the tokenizers library rejects it", "variant");
    }
}
