package dev.ascendj.data;

import java.nio.charset.StandardCharsets;

/**
 * Seeded 64-bit hashing with fixed definitions (not {@link String#hashCode()}, not JVM-dependent):
 * template choice, mixing, splitting and MinHash all derive from it, so prepared data sets are
 * the same on every machine and Java version.
 */
public final class Hashing {
    private Hashing() {
    }

    /** FNV-1a over the UTF-8 bytes of {@code s}. */
    public static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** The SplitMix64 finaliser: a bijective mix of all 64 bits. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A hash of {@code key} under {@code seed}. */
    public static long hash(long seed, String key) {
        return mix(fnv1a(key) ^ mix(seed + 0x9e3779b97f4a7c15L));
    }

    /** A uniform value in [0, 1) from {@link #hash(long, String)}. */
    public static double unit(long seed, String key) {
        return (hash(seed, key) >>> 11) * 0x1.0p-53;
    }
}
