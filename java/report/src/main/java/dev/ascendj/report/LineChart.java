package dev.ascendj.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.util.ArrayList;
import java.util.List;

/**
 * A small line chart rendered to PNG with the JDK alone (headless AWT): loss curves, learning
 * rates, per-rank comparisons. Series share the axes; the legend names them.
 *
 * <pre>{@code
 * new LineChart("Training loss", "step", "loss")
 *     .series("loss", steps, losses)
 *     .writePng(out.resolve("loss.png"));
 * }</pre>
 */
public final class LineChart extends Chart<LineChart> {
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
    };

    private record Series(String name, double[] x, double[] y) {
    }

    private final List<Series> series = new ArrayList<>();

    public LineChart(String title, String xLabel, String yLabel) {
        super(title, xLabel, yLabel);
    }

    /** Adds a series; {@code x} and {@code y} must have the same length. Non-finite points are skipped. */
    public LineChart series(String name, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("series '" + name + "' has " + x.length + " x values and "
                    + y.length + " y values");
        }
        series.add(new Series(name, x.clone(), y.clone()));
        return this;
    }

    @Override
    protected void draw(Graphics2D g) {
        double[] xr = range(true);
        double[] yr = range(false);
        int left = 80;
        int right = width - 30;
        int top = 50;
        int bottom = height - 60;
        drawTitle(g);
        FontMetrics fm = g.getFontMetrics();
        // Grid and tick labels.
        for (int i = 0; i <= 5; i++) {
            double yv = yr[0] + (yr[1] - yr[0]) * i / 5;
            int py = bottom - (int) Math.round((bottom - top) * i / 5.0);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(left, py, right, py);
            g.setColor(Color.DARK_GRAY);
            String s = format(yv);
            g.drawString(s, left - 8 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
            double xv = xr[0] + (xr[1] - xr[0]) * i / 5;
            int px = left + (int) Math.round((right - left) * i / 5.0);
            String xs = format(xv);
            g.drawString(xs, px - fm.stringWidth(xs) / 2, bottom + 18);
        }
        drawFrame(g, left, top, right, bottom, height - 20);
        // Lines.
        g.setStroke(new BasicStroke(1.8f));
        int legendY = top + 16;
        for (int s = 0; s < series.size(); s++) {
            Series se = series.get(s);
            g.setColor(PALETTE[s % PALETTE.length]);
            int prevX = Integer.MIN_VALUE;
            int prevY = 0;
            for (int i = 0; i < se.x.length; i++) {
                if (!Double.isFinite(se.x[i]) || !Double.isFinite(se.y[i])) {
                    prevX = Integer.MIN_VALUE;
                    continue;
                }
                int px = left + (int) Math.round((se.x[i] - xr[0]) / (xr[1] - xr[0]) * (right - left));
                int py = bottom - (int) Math.round((se.y[i] - yr[0]) / (yr[1] - yr[0]) * (bottom - top));
                if (prevX != Integer.MIN_VALUE) {
                    g.drawLine(prevX, prevY, px, py);
                } else if (se.x.length == 1) {
                    g.fillOval(px - 3, py - 3, 6, 6);
                }
                prevX = px;
                prevY = py;
            }
            if (series.size() > 1 || !se.name.isEmpty()) {
                g.drawLine(right - 170, legendY - 4, right - 145, legendY - 4);
                g.setColor(Color.BLACK);
                g.drawString(se.name, right - 138, legendY);
                legendY += 18;
            }
        }
    }

    private double[] range(boolean xAxis) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            double[] v = xAxis ? s.x : s.y;
            for (double d : v) {
                if (Double.isFinite(d)) {
                    lo = Math.min(lo, d);
                    hi = Math.max(hi, d);
                }
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            return new double[] {0, 1};
        }
        if (hi - lo < 1e-12) {
            return new double[] {lo - 0.5, hi + 0.5};
        }
        double pad = xAxis ? 0 : (hi - lo) * 0.05;
        return new double[] {lo - pad, hi + pad};
    }

    private static String format(double v) {
        double a = Math.abs(v);
        if (a != 0 && (a >= 1e5 || a < 1e-3)) {
            return String.format("%.2e", v);
        }
        return a >= 100 ? String.format("%.0f", v) : String.format("%.3g", v);
    }
}
