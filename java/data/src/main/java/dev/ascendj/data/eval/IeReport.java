package dev.ascendj.data.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ascendj.data.TextNorm;
import java.util.List;
import java.util.Map;

/** Renders task scores as text tables or JSON. */
public final class IeReport {
    private IeReport() {
    }

    /** Text: per task a table (micro, macro, each type) and the most frequent errors. */
    public static String render(List<TaskScore> scores) {
        StringBuilder sb = new StringBuilder();
        for (TaskScore s : scores) {
            Prf m = s.micro();
            sb.append(String.format("%s: %d examples, %d gold, %d predicted, %d correct%s%n", s.task().id().toUpperCase(),
                    s.examples(), m.gold(), m.predicted(), m.correct(),
                    s.malformed() > 0 || s.repeats() > 0 ? String.format(" (%d malformed answers, %d repeated items)",
                            s.malformed(), s.repeats()) : ""));
            sb.append(String.format("  %-24s %9s %7s %7s %6s %6s %8s%n", "", "precision", "recall", "F1", "gold", "pred",
                    "correct"));
            sb.append(String.format("  %-24s %9.4f %7.4f %7.4f %6d %6d %8d%n", "micro", m.precision(), m.recall(), m.f1(),
                    m.gold(), m.predicted(), m.correct()));
            sb.append(String.format("  %-24s %9.4f %7.4f %7.4f%n", "macro", s.macroP(), s.macroR(), s.macroF1()));
            for (Map.Entry<String, Prf> e : s.perType().entrySet()) {
                Prf t = e.getValue();
                sb.append(String.format("  %s %9.4f %7.4f %7.4f %6d %6d %8d%n", TextNorm.padRight(e.getKey(), 24),
                        t.precision(), t.recall(),
                        t.f1(), t.gold(), t.predicted(), t.correct()));
            }
            if (!s.errors().isEmpty()) {
                sb.append("  most frequent errors:\n");
                for (TaskScore.ErrorCount e : s.errors()) {
                    sb.append(String.format("  %5d  %-24s %s e.g. %s%n", e.count(), e.kind(), TextNorm.padRight(e.detail(), 30),
                            e.example()));
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** JSON: {@code {"ner": {...}, "rte": {...}}}. */
    public static ObjectNode toJson(List<TaskScore> scores) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        for (TaskScore s : scores) {
            ObjectNode n = root.putObject(s.task().id());
            n.put("examples", s.examples());
            n.set("micro", prf(mapper, s.micro()));
            ObjectNode macro = n.putObject("macro");
            macro.put("precision", s.macroP()).put("recall", s.macroR()).put("f1", s.macroF1());
            ObjectNode types = n.putObject("perType");
            s.perType().forEach((k, v) -> types.set(k, prf(mapper, v)));
            n.put("malformedPredictions", s.malformed());
            n.put("repeatedItems", s.repeats());
            ArrayNode errors = n.putArray("errors");
            for (TaskScore.ErrorCount e : s.errors()) {
                errors.addObject().put("kind", e.kind()).put("detail", e.detail()).put("count", e.count())
                        .put("example", e.example());
            }
        }
        return root;
    }

    private static ObjectNode prf(ObjectMapper m, Prf p) {
        return m.createObjectNode().put("precision", p.precision()).put("recall", p.recall()).put("f1", p.f1())
                .put("gold", p.gold()).put("predicted", p.predicted()).put("correct", p.correct());
    }
}
