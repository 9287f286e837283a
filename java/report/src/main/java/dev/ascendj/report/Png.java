package dev.ascendj.report;

import dev.ascendj.core.io.AtomicFiles;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/** What the charts share: a white antialiased headless canvas, and atomic PNG writes. */
final class Png {
    private Png() {
    }

    /** A {@code width} x {@code height} white picture drawn by {@code draw}. */
    static BufferedImage render(int width, int height, Consumer<Graphics2D> draw) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            draw.accept(g);
        } finally {
            g.dispose();
        }
        return img;
    }

    /**
     * Writes {@code img} as a PNG atomically ({@link AtomicFiles}: a temporary file next to
     * {@code file}, forced to disk, then a rename), with the permissions of any new file.
     */
    static void write(BufferedImage img, Path file) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", bytes)) {
            throw new IOException("no PNG writer available");
        }
        try {
            AtomicFiles.write(file, ch -> {
                ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
