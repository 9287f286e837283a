package dev.ascendj.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of one benchmark: a name and its figures in a fixed order, printable as a table
 * row or serialised to JSON by the CLI.
 *
 * @param name    what was measured
 * @param metrics figures by name, in insertion order (numbers or short strings)
 */
public record BenchResult(String name, Map<String, Object> metrics) {
    public BenchResult {
        metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    /** A human-readable multi-line rendering; nested maps are indented under their key. */
    public String render() {
        StringBuilder sb = new StringBuilder(name).append('\n');
        render(sb, metrics, "  ");
        return sb.toString();
    }

    private static void render(StringBuilder sb, Map<?, ?> m, String indent) {
        int w = m.keySet().stream().mapToInt(k -> String.valueOf(k).length()).max().orElse(0);
        m.forEach((k, v) -> {
            if (v instanceof Map<?, ?> sub) {
                sb.append(indent).append(k).append('\n');
                render(sb, sub, indent + "  ");
            } else {
                sb.append(indent).append(String.format("%-" + w + "s", k)).append("  ")
                        .append(v instanceof Double d ? String.format("%.4g", d) : String.valueOf(v)).append('\n');
            }
        });
    }
}
