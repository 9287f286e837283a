package dev.ascendj.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.Log;
import dev.ascendj.core.io.InputFormatException;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.io.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.apache.logging.log4j.Logger;

/**
 * A Hugging Face {@code tokenizer.json} (LLaMA2's, or any other), run by the Hugging Face
 * tokenizers library through DJL ({@code ai.djl.huggingface:tokenizers}, whose jar carries the
 * native library for Linux x86-64/aarch64 and macOS arm64: nothing is downloaded at run time).
 *
 * <p>The file is read and checked here first, so that a broken file gives a message naming it
 * rather than an error from native code, and so that the vocabulary and the special tokens are
 * known: BOS, EOS, UNK and PAD are taken from {@code tokenizer_config.json} beside the file when
 * it names them, else they are LLaMA's {@code <s>}, {@code </s>}, {@code <unk>} (and no PAD).
 *
 * <pre>{@code
 * try (LlamaTokenizer tok = LlamaTokenizer.load(Path.of("examples/tokenizer"))) {
 *     int[] ids = tok.encode("Hello world", true);   // [bos, ...] as the post-processor defines
 *     String text = tok.decode(ids);                  // "Hello world"
 * }
 * }</pre>
 *
 * <p>Close it to free the native tokenizer.
 */
public final class LlamaTokenizer implements AutoCloseable {
    private static final Logger LOG = Log.get(LlamaTokenizer.class);

    static {
        QuietSlf4j.init(); // before DJL's classes, which log through SLF4J, initialise
    }

    /** Largest tokenizer.json accepted (large multilingual ones are ~20 MB). */
    public static final long MAX_FILE_BYTES = 256L << 20;

    /** The file name inside a model directory. */
    public static final String FILE_NAME = "tokenizer.json";
    /** The optional configuration beside it. */
    public static final String CONFIG_NAME = "tokenizer_config.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> ids;
    private final String[] tokensById;
    private final Set<String> specialTokens;
    private final int bos;
    private final int eos;
    private final int unk;
    private final int pad;
    private volatile boolean closed;

    private LlamaTokenizer(Path file, HuggingFaceTokenizer tokenizer, Map<String, Integer> ids, String[] tokensById,
            Set<String> specialTokens, int bos, int eos, int unk, int pad) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.ids = ids;
        this.tokensById = tokensById;
        this.specialTokens = Collections.unmodifiableSet(specialTokens);
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.pad = pad;
    }

    /**
     * Loads {@code path}: a tokenizer.json file, or a directory holding one.
     *
     * @throws FormatException naming the file when it is missing, not JSON, not a tokenizer, or
     *     lacks a special token
     */
    public static LlamaTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
        JsonNode root = readJson(file, "tokenizer file", MAX_FILE_BYTES);
        if (!root.isObject()) {
            throw new FormatException(file, "tokenizer file is a JSON " + StrictReader.typeOf(root)
                    + ", expected an object");
        }
        Vocabulary vocab = Vocabulary.read(file, root);
        Map<String, String> specials = specialTokenNames(file);
        int bos = vocab.require(file, "BOS", specials.get("bos_token"));
        int eos = vocab.require(file, "EOS", specials.get("eos_token"));
        int unk = vocab.require(file, "UNK", specials.get("unk_token"));
        int pad = specials.get("pad_token") == null ? -1 : vocab.require(file, "PAD", specials.get("pad_token"));
        HuggingFaceTokenizer hf = DjlTokenizers.open(file);
        LOG.debug("loaded tokenizer {} ({} ids, BOS {}, EOS {})", file, vocab.tokensById.length, bos, eos);
        return new LlamaTokenizer(file, hf, vocab.ids, vocab.tokensById, vocab.special, bos, eos, unk, pad);
    }

    private static JsonNode readJson(Path file, String what, long maxBytes) {
        try {
            return StrictReader.readTree(file, StrictReader.Syntax.JSON, what, maxBytes);
        } catch (InputFormatException e) {
            throw FormatException.from(file, e);
        }
    }

    /** Special token names from tokenizer_config.json when present, LLaMA's otherwise. */
    private static Map<String, String> specialTokenNames(Path file) {
        Map<String, String> names = new HashMap<>();
        names.put("bos_token", "<s>");
        names.put("eos_token", "</s>");
        names.put("unk_token", "<unk>");
        names.put("pad_token", null);
        Path parent = file.toAbsolutePath().getParent();
        Path config = parent == null ? null : parent.resolve(CONFIG_NAME);
        if (config == null || !Files.isRegularFile(config)) {
            return names;
        }
        JsonNode root = readJson(config, "tokenizer config", 16L << 20);
        if (!root.isObject()) {
            throw new FormatException(config, "tokenizer config is a JSON " + StrictReader.typeOf(root)
                    + ", expected an object");
        }
        for (String key : List.copyOf(names.keySet())) {
            JsonNode v = root.get(key);
            if (v == null) {
                continue;
            }
            if (v.isNull()) {
                names.put(key, null);
            } else if (v.isTextual()) {
                names.put(key, v.textValue());
            } else if (v.isObject() && v.get("content") != null && v.get("content").isTextual()) {
                names.put(key, v.get("content").textValue()); // the serialised AddedToken form
            } else {
                throw new FormatException(config, key + " is a JSON " + StrictReader.typeOf(v)
                        + ", expected a token string or an object with \"content\"");
            }
        }
        return names;
    }

    // ---------------------------------------------------------------- encoding

    /** The ids of {@code text}, without special tokens. */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * The ids of {@code text}; with {@code addSpecialTokens}, the special tokens the file's
     * post-processor adds (BOS first for LLaMA) are included.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        checkOpen();
        Encoding e = tokenizer.encode(text, addSpecialTokens, false);
        return toInts(e.getIds());
    }

    /** The token strings of {@code text}, without special tokens. */
    public List<String> tokens(String text) {
        checkOpen();
        return Arrays.asList(tokenizer.encode(text, false, false).getTokens());
    }

    /** The text of {@code ids}, special tokens left out. */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /** The text of {@code ids}; {@code skipSpecialTokens} leaves out BOS, EOS and the like. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        checkOpen();
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= tokensById.length) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i
                        + " is outside the vocabulary of " + tokensById.length + " (" + file + ")");
            }
            l[i] = ids[i];
        }
        return tokenizer.decode(l, skipSpecialTokens);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    // ---------------------------------------------------------------- vocabulary

    /** Beginning-of-sequence id ({@code <s>} for LLaMA). */
    public int bosId() {
        return bos;
    }

    /** End-of-sequence id ({@code </s>} for LLaMA): appended after each training response. */
    public int eosId() {
        return eos;
    }

    /** Unknown-token id. */
    public int unkId() {
        return unk;
    }

    /** Padding id, when the tokenizer defines one (LLaMA2 does not). */
    public OptionalInt padId() {
        return pad < 0 ? OptionalInt.empty() : OptionalInt.of(pad);
    }

    /** Number of ids: one more than the largest id in the vocabulary or the added tokens. */
    public int vocabSize() {
        return tokensById.length;
    }

    /** The id of a token string, when the vocabulary has it. */
    public OptionalInt tokenId(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of {@code id} (null for an id no token has). */
    public String token(int id) {
        if (id < 0 || id >= tokensById.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokensById.length);
        }
        return tokensById[id];
    }

    /** The tokens the file marks as special. */
    public Set<String> specialTokens() {
        return specialTokens;
    }

    /** The tokenizer.json file. */
    public Path path() {
        return file;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tokenizer " + file + " is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "LlamaTokenizer(" + file + ", " + tokensById.length + " tokens)";
    }
}
