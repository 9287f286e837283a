package dev.ascendj.core;

/**
 * Memory of a device in bytes, as {@code aclrtGetMemInfo} reports it, plus AscendJ's own
 * accounting of what it allocated there.
 *
 * @param freeBytes  bytes still available to allocate
 * @param totalBytes capacity of the device (for the CPU: the configured cap, or the JVM-visible memory)
 * @param usedBytes  bytes currently allocated through AscendJ
 * @param peakBytes  the most ever allocated at once through AscendJ
 */
public record MemoryInfo(long freeBytes, long totalBytes, long usedBytes, long peakBytes) {
}
