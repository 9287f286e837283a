package dev.ascendj.core;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProcessMemoryTest {

    @Test
    void peakRssCoversMemoryThisProcessTouched() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "Linux only");
        byte[] touched = new byte[128 << 20];
        Arrays.fill(touched, (byte) 1);
        long peak = ProcessMemory.peakRssBytes();
        assertTrue(peak >= touched.length, "peak RSS " + peak + " below the " + touched.length + " bytes just written");
        assertTrue(touched[touched.length - 1] == 1);
    }
}
