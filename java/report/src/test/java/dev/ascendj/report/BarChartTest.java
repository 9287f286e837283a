package dev.ascendj.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BarChartTest {
    @Test
    void barsAreDrawnInTheSeriesColourWithHeightsInProportion(@TempDir Path dir) throws Exception {
        BarChart chart = new BarChart("t", "x", "y").size(400, 300)
                .categories(List.of("a", "b"))
                .series("s", new double[] {10, 5});
        Path png = dir.resolve("bars.png");
        chart.writePng(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(400, img.getWidth());
        int blue = 0x1f77b4;
        // Plot spans x 80..370; category centres at 80 + 145 * (i + 0.5); bottom at 300 - 80 = 220.
        int tallA = columnHeight(img, 80 + 72, 220, blue);
        int tallB = columnHeight(img, 80 + 217, 220, blue);
        assertNotEquals(0, tallA);
        assertEquals(2.0, tallA / (double) tallB, 0.05);
    }

    @Test
    void rejectsMismatchedSeries() {
        BarChart c = new BarChart("t", "x", "y").categories(List.of("a", "b"));
        assertThrows(IllegalArgumentException.class, () -> c.series("s", new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> c.series("s", new double[] {1, -1}));
        assertThrows(IllegalStateException.class, () -> c.series("s", new double[] {1, 2}).categories(List.of("z")));
    }

    @Test
    void niceCeilings() {
        assertEquals(1, BarChart.niceCeiling(0));
        assertEquals(10, BarChart.niceCeiling(10));
        assertEquals(25, BarChart.niceCeiling(21));
        assertEquals(50, BarChart.niceCeiling(26));
        assertEquals(0.2, BarChart.niceCeiling(0.17), 1e-12);
    }

    private static int columnHeight(BufferedImage img, int x, int bottom, int rgb) {
        int h = 0;
        for (int y = bottom - 1; y > 0 && (img.getRGB(x, y) & 0xffffff) == rgb; y--) {
            h++;
        }
        return h;
    }
}
