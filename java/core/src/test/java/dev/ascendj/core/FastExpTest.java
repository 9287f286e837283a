package dev.ascendj.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FastExpTest {

    @Test
    void relativeErrorIsAFewUlpsOverTheWholeRange() {
        int n = 200_001;
        float[] a = new float[n];
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -87f + 175f * i / (n - 1);
            a[i] = x[i];
        }
        FastExp.expShifted(a, 0, n, 0f, new float[n]);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(a[i] - e) / e);
        }
        assertTrue(worst < 3e-7, "worst relative error " + worst);
    }

    @Test
    void shiftAndSubrangeAreHonoured() {
        Random r = new Random(1);
        float[] a = new float[50];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextGaussian() * 5);
        }
        float[] orig = a.clone();
        FastExp.expShifted(a, 10, 40, 2.5f, new float[40]);
        for (int i = 0; i < a.length; i++) {
            if (i < 10 || i >= 40) {
                assertEquals(orig[i], a[i], 0f, "outside the range at " + i);
            } else {
                double e = Math.exp(orig[i] - 2.5f);
                assertEquals(e, a[i], 3e-7 * e, "at " + i);
            }
        }
    }

    @Test
    void scaledVariantMultipliesTheShiftedExponentialAcrossChunks() {
        Random r = new Random(2);
        int n = 5000; // more than two chunks, the last one partial
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * 6);
        }
        float[] orig = a.clone();
        float scale = 1f / 3072;
        FastExp.expShiftedScaled(a, 7, n - 3, 4.25f, scale, new float[n]);
        for (int i = 0; i < n; i++) {
            if (i < 7 || i >= n - 3) {
                assertEquals(orig[i], a[i], 0f, "outside the range at " + i);
            } else {
                double e = Math.exp(orig[i] - 4.25f) * scale;
                assertEquals(e, a[i], 4e-7 * e, "at " + i);
            }
        }
    }

    @Test
    void extremesSaturateAndNanPropagates() {
        float[] a = {Float.NEGATIVE_INFINITY, -1000f, -87.5f, 0f, 88f, 1000f, Float.NaN};
        FastExp.expShifted(a, 0, a.length, 0f, new float[a.length]);
        assertTrue(a[0] >= 0 && a[0] < 1.2e-38f, "exp(-inf) ~ 0: " + a[0]);
        assertTrue(a[1] >= 0 && a[1] < 1.2e-38f, "exp(-1000) ~ 0: " + a[1]);
        assertTrue(a[2] >= 0 && a[2] < 1.2e-38f, "exp(-87.5) ~ 0: " + a[2]);
        assertEquals(1f, a[3], 0f);
        assertTrue(Float.isFinite(a[4]) && a[4] > 1.6e38f, "exp(88): " + a[4]);
        assertTrue(Float.isFinite(a[5]), "exp(1000) saturates: " + a[5]);
        assertTrue(Float.isNaN(a[6]), "NaN stays NaN");
    }

    @Test
    void sumAndMax() {
        float[] a = {1, 2, 3, 4, 5, 6, 7};
        assertEquals(27.0, FastExp.sum(a, 1, 7), 0);
        assertEquals(0.0, FastExp.sum(a, 3, 3), 0);
        assertEquals(7f, FastExp.max(a, 0, 7), 0f);
        assertEquals(Float.NEGATIVE_INFINITY, FastExp.max(a, 2, 2), 0f);
        assertTrue(Float.isNaN(FastExp.max(new float[] {1, Float.NaN, 2}, 0, 3)));
    }
}
