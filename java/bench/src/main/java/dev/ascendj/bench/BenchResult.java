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

    /** A human-readable multi-line rendering. */
    public String render() {
        StringBuilder sb = new StringBuilder(name).append('\n');
        int w = metrics.keySet().stream().mapToInt(String::length).max().orElse(0);
        metrics.forEach((k, v) -> {
            sb.append("  ").append(String.format("%-" + w + "s", k));
            if (v instanceof Map<?, ?> m) {
                sb.append('\n');
                m.forEach((k2, v2) -> sb.append("    ").append(k2).append(": ").append(v2).append('\n'));
            } else {
                sb.append("  ").append(v instanceof Double d ? String.format("%.4g", d) : String.valueOf(v)).append('\n');
            }
        });
        return sb.toString();
    }
}
