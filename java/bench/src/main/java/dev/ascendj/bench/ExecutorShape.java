package dev.ascendj.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parallel shape of the executor benchmark: the single-device {@code Trainer} ({@code 1}), or
 * degrees run by the {@code ParallelTrainer} ({@code dp2}, {@code tp2}, {@code pp2},
 * {@code dp2-tp2-pp2}; a degree left out is 1, so {@code dp1} is the executor on one rank).
 *
 * @param dp           data-parallel degree
 * @param tp           tensor-parallel degree
 * @param pp           pipeline stages
 * @param singleDevice true for the plain single-device trainer (all degrees 1)
 */
public record ExecutorShape(int dp, int tp, int pp, boolean singleDevice) {
    private static final Pattern DEGREE = Pattern.compile("(dp|tp|pp)(\\d{1,4})");

    /** The shapes the parallel-executor issue names, in its order. */
    public static final String DEFAULT_SHAPES = "1,dp2,tp2,pp2,dp2-tp2-pp2,dp4-tp2-pp4";

    public ExecutorShape {
        if (dp < 1 || tp < 1 || pp < 1) {
            throw new IllegalArgumentException("degrees must be positive, got dp " + dp + ", tp " + tp + ", pp " + pp);
        }
        if (singleDevice && dp * tp * pp != 1) {
            throw new IllegalArgumentException("the single-device shape has all degrees 1");
        }
    }

    /** The single-device trainer. */
    public static ExecutorShape single() {
        return new ExecutorShape(1, 1, 1, true);
    }

    /**
     * Parses {@code 1} (or {@code single}) or degrees {@code dpN}, {@code tpN}, {@code ppN} in
     * any order, optionally separated by {@code -}, {@code _} or {@code x}: {@code dp4-tp2-pp4}.
     *
     * @throws IllegalArgumentException naming the text and what is wrong with it
     */
    public static ExecutorShape parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("1") || s.equals("single")) {
            return single();
        }
        int[] d = {0, 0, 0};
        int at = 0;
        Matcher m = DEGREE.matcher(s);
        while (at < s.length()) {
            if (at > 0 && "-_x".indexOf(s.charAt(at)) >= 0) {
                at++;
            }
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("shape '" + text + "': expected 1 or degrees like dp2, tp2, pp2,"
                        + " dp4-tp2-pp4");
            }
            int slot = switch (m.group(1)) {
                case "dp" -> 0;
                case "tp" -> 1;
                default -> 2;
            };
            if (d[slot] != 0) {
                throw new IllegalArgumentException("shape '" + text + "': " + m.group(1) + " is given twice");
            }
            d[slot] = Integer.parseInt(m.group(2));
            if (d[slot] < 1) {
                throw new IllegalArgumentException("shape '" + text + "': " + m.group(1) + " must be at least 1");
            }
            at = m.end();
        }
        if (d[0] + d[1] + d[2] == 0) {
            throw new IllegalArgumentException("shape '" + text + "': empty");
        }
        return new ExecutorShape(Math.max(1, d[0]), Math.max(1, d[1]), Math.max(1, d[2]), false);
    }

    /** Comma-separated shapes, in order. */
    public static List<ExecutorShape> parseList(String text) {
        List<ExecutorShape> out = new ArrayList<>();
        for (String part : text.split(",")) {
            out.add(parse(part));
        }
        return out;
    }

    /** Ranks (virtual devices) the shape takes. */
    public int ranks() {
        return dp * tp * pp;
    }

    /** {@code 1 device}, or the degrees above 1 ({@code dp1} when all are 1). */
    public String label() {
        if (singleDevice) {
            return "1 device";
        }
        List<String> parts = new ArrayList<>();
        if (dp > 1) {
            parts.add("dp" + dp);
        }
        if (tp > 1) {
            parts.add("tp" + tp);
        }
        if (pp > 1) {
            parts.add("pp" + pp);
        }
        return parts.isEmpty() ? "dp1" : String.join(" ", parts);
    }

    @Override
    public String toString() {
        return label();
    }
}
