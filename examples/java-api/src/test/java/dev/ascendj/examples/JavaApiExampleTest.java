package dev.ascendj.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.core.Backend;
import dev.ascendj.core.Backends;
import org.junit.jupiter.api.Test;

/** The example on the CPU backend with two virtual devices (see the pom): it runs unchanged on an NPU. */
class JavaApiExampleTest {
    /** x(rank) @ w for x = (rank + 1) * [[1, 2, 3], [4, 5, 6]] and w = [[1, 0], [0, 1], [1, 1]]. */
    private static float[] expectedProduct(int rank) {
        float s = rank + 1;
        return new float[] {4 * s, 5 * s, 10 * s, 11 * s};
    }

    @Test
    void multipliesOnEveryDeviceAndSumsAcrossThem() {
        Backend cpu = Backends.get("cpu");
        assertEquals(2, cpu.deviceCount());
        JavaApiExample.Result r = JavaApiExample.run(cpu);
        assertEquals("cpu", r.backend());
        assertArrayEquals(expectedProduct(0), r.product(), 1e-5f);
        float[] sum = new float[4];
        for (int rank = 0; rank < 2; rank++) {
            for (int i = 0; i < 4; i++) {
                sum[i] += expectedProduct(rank)[i];
            }
        }
        assertArrayEquals(sum, r.reduced(), 1e-5f);
    }
}
