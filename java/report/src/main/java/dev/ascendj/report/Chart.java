package dev.ascendj.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What {@link LineChart} and {@link BarChart} share: title and axis labels, the picture size,
 * rendering onto a headless canvas and the atomic PNG write, and the title and frame drawing.
 *
 * @param <C> the concrete chart, so that the builder methods return it
 */
public abstract class Chart<C extends Chart<C>> {
    protected final String title;
    protected final String xLabel;
    protected final String yLabel;
    protected int width = 900;
    protected int height = 500;

    protected Chart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** Sets the picture size in pixels. */
    @SuppressWarnings("unchecked")
    public C size(int w, int h) {
        if (w < 200 || h < 150) {
            throw new IllegalArgumentException("chart too small: " + w + "x" + h);
        }
        this.width = w;
        this.height = h;
        return (C) this;
    }

    /** Renders the chart. */
    public BufferedImage render() {
        return Png.render(width, height, this::draw);
    }

    /** Writes the PNG atomically: a temporary file next to {@code file}, then a rename. */
    public void writePng(Path file) throws IOException {
        Png.write(render(), file);
    }

    /** Draws the chart on a white canvas of {@link #width} x {@link #height}. */
    protected abstract void draw(Graphics2D g);

    /** Draws the title centred at the top; leaves the 12-point plain font set for labels. */
    protected void drawTitle(Graphics2D g) {
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        g.drawString(title, (width - fm.stringWidth(title)) / 2, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    }

    /** Draws the plot frame, the x label at {@code xLabelY} and the y label turned upright. */
    protected void drawFrame(Graphics2D g, int left, int top, int right, int bottom, int xLabelY) {
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);
        g.drawString(xLabel, (left + right - fm.stringWidth(xLabel)) / 2, xLabelY);
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString(yLabel, -(top + bottom + fm.stringWidth(yLabel)) / 2, 20);
        rotated.dispose();
    }
}
