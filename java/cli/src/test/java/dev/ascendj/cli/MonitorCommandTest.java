package dev.ascendj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ascendj monitor} on recorded logs: the summary, the plot and the exit codes. */
class MonitorCommandTest {

    @TempDir
    Path dir;

    static final Path SAMPLES = LaunchFixtures.LAUNCH_RESOURCES.resolve("monitor");


    @Test
    void readsAscendjLogsAndPlots() throws Exception {
        Path png = dir.resolve("loss.png");
        var run = Cli.run("monitor", SAMPLES.resolve("ascendj").toString(), "--plot", png.toString());
        assertEquals(0, run.code(), run.out() + run.err());
        assertTrue(run.out().contains("healthy"), run.out());
        assertTrue(run.out().contains("1550.5"), run.out());
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
        run = Cli.run("monitor", SAMPLES.resolve("run").toString(), "--plot", png.toString());
        assertEquals(1, run.code());
        run = Cli.run("monitor", dir.resolve("nothing").toString());
        assertEquals(2, run.code());
    }
}
