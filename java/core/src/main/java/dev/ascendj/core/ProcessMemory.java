package dev.ascendj.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory of this JVM process as the operating system counts it (heap, off-heap buffers and natives together). */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Peak resident set size of this process in bytes (Linux {@code VmHWM} in {@code /proc/self/status}), or -1 where unknown. */
    public static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
