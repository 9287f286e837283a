package dev.ascendj.data.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MinHashTest {
    private static double exactJaccard(MinHash m, String a, String b) {
        Set<Long> x = new HashSet<>();
        Arrays.stream(m.shingles(a)).forEach(x::add);
        Set<Long> y = new HashSet<>();
        Arrays.stream(m.shingles(b)).forEach(y::add);
        Set<Long> inter = new HashSet<>(x);
        inter.retainAll(y);
        Set<Long> union = new HashSet<>(x);
        union.addAll(y);
        return inter.size() / (double) union.size();
    }

    @Test
    void estimateTracksExactJaccard() {
        MinHash m = new MinHash(256, 64, 5, 1);
        String base = "metformin is commonly prescribed for type 2 diabetes in adults with high blood sugar";
        String[] others = {
            base,
            base.replace("adults", "children"),
            base.replace("metformin is commonly", "insulin is often"),
            "a completely different sentence about the weather in harlow today",
        };
        for (String o : others) {
            double exact = exactJaccard(m, base, o);
            double est = MinHash.similarity(m.signature(base), m.signature(o));
            // Standard error sqrt(J(1-J)/256) <= 0.032; allow four of them.
            assertEquals(exact, est, 0.13, o);
        }
        assertEquals(1.0, MinHash.similarity(m.signature(base), m.signature(base)));
        assertTrue(MinHash.similarity(m.signature(base), m.signature(others[3])) < 0.1);
    }

    @Test
    void signaturesAreSeededAndDeterministic() {
        assertArrayEquals(new MinHash(64, 16, 5, 7).signature("周婷出生于北京。"), new MinHash(64, 16, 5, 7).signature("周婷出生于北京。"));
        assertTrue(!Arrays.equals(new MinHash(64, 16, 5, 7).signature("abcdefgh"), new MinHash(64, 16, 5, 8).signature("abcdefgh")));
        assertEquals(1, new MinHash(8, 2, 5, 1).shingles("abc").length);
        assertThrows(IllegalArgumentException.class, () -> new MinHash(10, 3, 5, 1));
    }

    @Test
    void nearDuplicateIndexKeepsTheFirst() {
        NearDuplicates idx = new NearDuplicates(new MinHash(128, 32, 5, 3), 0.8);
        assertNull(idx.addIfNew("a", "ada brook was born in harlow and works for norell labs."));
        NearDuplicates.Match m = idx.addIfNew("b", "ada brook was born in harlow and works for norell labs!");
        assertNotNull(m);
        assertEquals("a", m.id());
        assertNull(idx.addIfNew("c", "liam carter studied at crescent university before moving to westmere."));
        assertNull(idx.addIfNew("d", "ada brook"));
    }
}
