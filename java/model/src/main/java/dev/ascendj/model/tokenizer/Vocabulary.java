package dev.ascendj.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ascendj.core.io.StrictReader;
import dev.ascendj.model.io.FormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Token strings and ids of a tokenizer.json, from the model's vocabulary (an object of ids for
 * BPE, WordPiece and WordLevel; a list of pieces for Unigram) and the added tokens, checked for
 * consistency: ids are non-negative integers, no id has two tokens, no token two ids.
 */
final class Vocabulary {
    final Map<String, Integer> ids = new HashMap<>();
    final Set<String> special = new LinkedHashSet<>();
    String[] tokensById;

    static Vocabulary read(Path file, JsonNode root) {
        Vocabulary v = new Vocabulary();
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw new FormatException(file, "\"model\" is " + StrictReader.typeOf(model)
                    + ", expected an object: not a Hugging Face tokenizer.json");
        }
        JsonNode type = model.get("type");
        JsonNode vocab = model.get("vocab");
        List<String> byId = new ArrayList<>();
        if (vocab != null && vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                v.put(file, e.getKey(), id(file, e.getKey(), e.getValue()), byId);
            }
        } else if (vocab != null && vocab.isArray()) {
            // Unigram: [[piece, score], ...], ids by position
            for (int i = 0; i < vocab.size(); i++) {
                JsonNode entry = vocab.get(i);
                if (!entry.isArray() || entry.size() < 1 || !entry.get(0).isTextual()) {
                    throw new FormatException(file, "model.vocab entry " + i + " is " + entry
                            + ", expected [piece, score]");
                }
                v.put(file, entry.get(0).textValue(), i, byId);
            }
        } else {
            throw new FormatException(file, "model.vocab is " + StrictReader.typeOf(vocab) + " in a "
                    + (type == null ? "model without a type" : type.asText() + " model")
                    + ", expected an object of token ids or a list of pieces");
        }
        JsonNode added = root.get("added_tokens");
        if (added != null && !added.isNull()) {
            if (!added.isArray()) {
                throw new FormatException(file, "added_tokens is a JSON " + StrictReader.typeOf(added)
                        + ", expected an array");
            }
            for (JsonNode t : added) {
                JsonNode content = t.get("content");
                if (!t.isObject() || content == null || !content.isTextual()) {
                    throw new FormatException(file, "added_tokens entry " + t + " has no \"content\" string");
                }
                int id = id(file, content.textValue(), t.get("id"));
                v.put(file, content.textValue(), id, byId);
                if (t.path("special").asBoolean(false)) {
                    v.special.add(content.textValue());
                }
            }
        }
        if (v.ids.isEmpty()) {
            throw new FormatException(file, "the vocabulary is empty");
        }
        v.tokensById = byId.toArray(new String[0]);
        return v;
    }

    private static int id(Path file, String token, JsonNode node) {
        if (node == null || !node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 0) {
            throw new FormatException(file, "token", token, "has id " + node + ", expected a non-negative integer",
                    null);
        }
        return node.intValue();
    }

    private void put(Path file, String token, int id, List<String> byId) {
        Integer old = ids.get(token);
        if (old != null && old != id) {
            // added_tokens may repeat a vocabulary token, but only with the same id
            throw new FormatException(file, "token", token, "has two ids, " + old + " and " + id, null);
        }
        while (byId.size() <= id) {
            byId.add(null);
        }
        String other = byId.get(id);
        if (other != null && !other.equals(token)) {
            throw new FormatException(file, "token", token, "has id " + id + ", which '" + other + "' has too", null);
        }
        byId.set(id, token);
        ids.put(token, id);
    }

    int require(Path file, String role, String token) {
        if (token == null) {
            throw new FormatException(file, "the tokenizer defines no " + role + " token");
        }
        Integer id = ids.get(token);
        if (id == null) {
            throw new FormatException(file, "token", token, "is the " + role
                    + " token but is not in the vocabulary", null);
        }
        return id;
    }
}
