package dev.ascendj.report;

import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.util.ArrayList;
import java.util.List;

/**
 * A small grouped bar chart rendered to PNG with the JDK alone (headless AWT), the companion of
 * {@link LineChart} for counts per category: histograms, counts per task or reason. Every series
 * has one value per category; a category's bars stand side by side.
 *
 * <pre>{@code
 * new BarChart("Example lengths", "characters", "examples")
 *     .categories(List.of("0-49", "50-99", "100-149"))
 *     .series("ner", new double[] {3, 10, 4})
 *     .series("rte", new double[] {1, 8, 9})
 *     .writePng(out.resolve("lengths.png"));
 * }</pre>
 */
public final class BarChart extends Chart<BarChart> {
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
    };

    private record Series(String name, double[] values) {
    }

    private List<String> categories = List.of();
    private final List<Series> series = new ArrayList<>();

    public BarChart(String title, String xLabel, String yLabel) {
        super(title, xLabel, yLabel);
    }

    /** Sets the category labels along the x axis; must come before {@link #series}. */
    public BarChart categories(List<String> labels) {
        if (!series.isEmpty()) {
            throw new IllegalStateException("set the categories before adding series");
        }
        this.categories = List.copyOf(labels);
        return this;
    }

    /** Adds a series: one non-negative value per category. */
    public BarChart series(String name, double[] values) {
        if (values.length != categories.size()) {
            throw new IllegalArgumentException("series '" + name + "' has " + values.length + " values for "
                    + categories.size() + " categories");
        }
        for (double v : values) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("series '" + name + "' has a value that is not a finite number >= 0: " + v);
            }
        }
        series.add(new Series(name, values.clone()));
        return this;
    }

    @Override
    protected void draw(Graphics2D g) {
        double max = 0;
        for (Series s : series) {
            for (double v : s.values) {
                max = Math.max(max, v);
            }
        }
        double top = niceCeiling(max);
        int left = 80;
        int right = width - 30;
        int plotTop = series.size() > 1 || (series.size() == 1 && !series.get(0).name.isEmpty()) ? 44 + 18 * series.size() : 50;
        int bottom = height - 80;
        drawTitle(g);
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i <= 5; i++) {
            int py = bottom - (int) Math.round((bottom - plotTop) * i / 5.0);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(left, py, right, py);
            g.setColor(Color.DARK_GRAY);
            String s = format(top * i / 5);
            g.drawString(s, left - 8 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
        }
        int n = Math.max(1, categories.size());
        double slot = (right - left) / (double) n;
        double barWidth = slot * 0.8 / Math.max(1, series.size());
        // Label every k-th category so that labels do not overlap.
        int widest = 1;
        for (String c : categories) {
            widest = Math.max(widest, fm.stringWidth(c));
        }
        int every = Math.max(1, (int) Math.ceil((widest + 6) / slot));
        for (int c = 0; c < categories.size(); c++) {
            double x0 = left + c * slot + slot * 0.1;
            for (int s = 0; s < series.size(); s++) {
                double v = series.get(s).values[c];
                int h = top == 0 ? 0 : (int) Math.round(v / top * (bottom - plotTop));
                g.setColor(PALETTE[s % PALETTE.length]);
                g.fillRect((int) Math.round(x0 + s * barWidth), bottom - h, Math.max(1, (int) Math.floor(barWidth)), h);
            }
            if (c % every == 0) {
                g.setColor(Color.DARK_GRAY);
                String label = categories.get(c);
                int cx = (int) Math.round(left + (c + 0.5) * slot);
                g.drawString(label, cx - fm.stringWidth(label) / 2, bottom + 18);
            }
        }
        drawFrame(g, left, plotTop, right, bottom, height - 40);
        if (series.size() > 1 || (series.size() == 1 && !series.get(0).name.isEmpty())) {
            int lx = right - 150;
            int ly = 46;
            for (int s = 0; s < series.size(); s++) {
                g.setColor(PALETTE[s % PALETTE.length]);
                g.fillRect(lx, ly + s * 18 - 10, 14, 10);
                g.setColor(Color.BLACK);
                g.drawString(series.get(s).name, lx + 20, ly + s * 18);
            }
        }
    }

    /** The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least {@code v} (1 for 0). */
    public static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v * (1 - 1e-12)) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String format(double v) {
        return v == Math.rint(v) ? String.format("%.0f", v) : String.format("%.3g", v);
    }
}
