package dev.ascendj.data.prepare;

import dev.ascendj.data.Hashing;
import java.util.Arrays;

/**
 * MinHash signatures of texts over character shingles, and their banding for locality-sensitive
 * lookup. The fraction of equal signature entries of two texts estimates the Jaccard similarity
 * of their shingle sets (standard error about sqrt(J(1-J)/hashes)); two texts share a band key
 * with probability 1 - (1 - J^r)^b for b bands of r rows, so near-duplicates are found without
 * comparing all pairs.
 */
public final class MinHash {
    private final int hashes;
    private final int bands;
    private final int shingle;
    private final long[] seeds;

    /**
     * @param hashes  signature length
     * @param bands   number of bands ({@code hashes} must be a multiple)
     * @param shingle characters per shingle (code points)
     * @param seed    seeds the hash functions
     */
    public MinHash(int hashes, int bands, int shingle, long seed) {
        if (hashes < 1 || bands < 1 || hashes % bands != 0 || shingle < 1) {
            throw new IllegalArgumentException("MinHash needs hashes >= 1 divisible by bands >= 1 and shingle >= 1; got "
                    + hashes + ", " + bands + ", " + shingle);
        }
        this.hashes = hashes;
        this.bands = bands;
        this.shingle = shingle;
        this.seeds = new long[hashes];
        for (int i = 0; i < hashes; i++) {
            seeds[i] = Hashing.mix(seed * 0x9e3779b97f4a7c15L + i + 1);
        }
    }

    /** 64-bit hashes of the text's shingles (the whole text if it is shorter than one shingle). */
    public long[] shingles(String text) {
        int[] cps = text.codePoints().toArray();
        int n = Math.max(1, cps.length - shingle + 1);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            int end = Math.min(cps.length, i + shingle);
            out[i] = Hashing.fnv1a(new String(cps, i, end - i));
        }
        return out;
    }

    /** The signature: for each hash function, the minimum over the shingles. */
    public long[] signature(String text) {
        long[] sh = shingles(text);
        long[] sig = new long[hashes];
        Arrays.fill(sig, Long.MAX_VALUE);
        for (long s : sh) {
            for (int i = 0; i < hashes; i++) {
                long h = Hashing.mix(s ^ seeds[i]);
                if (Long.compareUnsigned(h, sig[i]) < 0) {
                    sig[i] = h;
                }
            }
        }
        return sig;
    }

    /** One key per band: a hash of the band's rows and its index. */
    public long[] bandKeys(long[] signature) {
        int rows = hashes / bands;
        long[] keys = new long[bands];
        for (int b = 0; b < bands; b++) {
            long h = Hashing.mix(b + 0x51ed27L);
            for (int r = 0; r < rows; r++) {
                h = Hashing.mix(h ^ signature[b * rows + r]);
            }
            keys[b] = h;
        }
        return keys;
    }

    /** The Jaccard estimate: the fraction of equal entries. */
    public static double similarity(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("signatures of different lengths: " + a.length + " and " + b.length);
        }
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b[i]) {
                same++;
            }
        }
        return same / (double) a.length;
    }

    /** Signature length. */
    public int hashes() {
        return hashes;
    }
}
