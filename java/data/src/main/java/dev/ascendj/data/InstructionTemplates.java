package dev.ascendj.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The instructions that ask for entities or triples, several per task in English and Chinese.
 * A template may name the schema's types ({@code {types}}, {@code {typesAnd}}) or relations
 * ({@code {relations}}); it is only used when the schema declares them. Training data gets a
 * template chosen by a seeded hash of the example (so the choice does not depend on file order);
 * extraction uses the first one that applies, which is also among those seen in training.
 */
public final class InstructionTemplates {
    private record Template(Task task, String language, String text) {
    }

    private static final List<Template> ALL = List.of(
            new Template(Task.NER, "en", "Extract the named entities ({types}) from the text."),
            new Template(Task.NER, "en", "List every {typesAnd} mentioned in the sentence."),
            new Template(Task.NER, "en", "Find the named entities in the following text and give their types."),
            new Template(Task.NER, "en",
                    "Tag the named entities in the text; answer as type: entity pairs separated by semicolons."),
            new Template(Task.NER, "zh", "请抽取文本中的命名实体（{types}）。"),
            new Template(Task.NER, "zh", "找出下面句子中的实体并标注类型。"),
            new Template(Task.NER, "zh", "标注下面文本中的命名实体，按“类型: 实体”的格式输出。"),
            new Template(Task.NER, "zh", "识别以下文本中属于{types}的实体，按“类型: 实体”的格式输出，用分号分隔。"),
            new Template(Task.RTE, "en", "Extract all (head, relation, tail) triples from the text."),
            new Template(Task.RTE, "en", "Identify the relation triples expressed in the sentence."),
            new Template(Task.RTE, "en", "Read the text and output its knowledge-graph triples."),
            new Template(Task.RTE, "en",
                    "Extract the (head, relation, tail) triples from the text; the relation is one of: {relations}."),
            new Template(Task.RTE, "zh", "请抽取文本中的所有（头实体，关系，尾实体）三元组。"),
            new Template(Task.RTE, "zh", "识别句子中表达的关系三元组。"),
            new Template(Task.RTE, "zh", "从文本中抽取关系为{relations}之一的三元组，格式为（头实体，关系，尾实体）。"));

    private InstructionTemplates() {
    }

    /** The instructions usable for a task, language ({@code en}/{@code zh}) and schema, in a fixed order. */
    public static List<String> candidates(Task task, String language, Schema schema) {
        String lang = "zh".equals(language) ? "zh" : "en";
        Schema s = schema == null ? Schema.NONE : schema;
        List<String> out = new ArrayList<>();
        for (Template t : ALL) {
            if (t.task() != task || !t.language().equals(lang)) {
                continue;
            }
            String text = t.text();
            if (text.contains("{types}") || text.contains("{typesAnd}")) {
                if (s.entityTypes().isEmpty()) {
                    continue;
                }
                text = text.replace("{types}", join(s.entityTypes(), lang, false))
                        .replace("{typesAnd}", join(s.entityTypes(), lang, true));
            }
            if (text.contains("{relations}")) {
                if (s.relations().isEmpty()) {
                    continue;
                }
                text = text.replace("{relations}", join(s.relations(), lang, false));
            }
            out.add(text);
        }
        return out;
    }

    /** The template for an example, picked by a hash of {@code key} under {@code seed}. */
    public static String choose(Task task, String language, Schema schema, long seed, String key) {
        List<String> c = candidates(task, language, schema);
        return c.get((int) Long.remainderUnsigned(Hashing.hash(seed, key), c.size()));
    }

    /** The instruction extraction uses: the first candidate. */
    public static String first(Task task, String language, Schema schema) {
        return candidates(task, language, schema).get(0);
    }

    /**
     * The task an instruction asks for, from its words (triples/relations/三元组/关系 or
     * entities/实体), or null when it says neither or both.
     */
    public static Task guessTask(String instruction) {
        String s = instruction.toLowerCase(Locale.ROOT);
        boolean rte = s.contains("triple") || s.contains("relation") || s.contains("三元组") || s.contains("关系");
        // Head and tail entities (头实体, 尾实体) are parts of a triple, not a request for entities.
        String rest = s.replace("头实体", "").replace("尾实体", "");
        boolean ner = rest.contains("entit") || rest.contains("实体") || rest.contains("named") || rest.contains("mention")
                || rest.contains("命名");
        if (rte == ner) {
            return null;
        }
        return rte ? Task.RTE : Task.NER;
    }

    private static String join(List<String> items, String lang, boolean and) {
        if (lang.equals("zh")) {
            return String.join("、", items);
        }
        if (!and || items.size() < 2) {
            return String.join(", ", items);
        }
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.get(items.size() - 1);
    }
}
