package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The decode-product benchmark computes the same product as OpenBLAS and reports both rates (no speed is asserted). */
@Timeout(60)
class DecodeGemmBenchTest {
    @Test
    @SuppressWarnings("unchecked")
    void bothProductsAgreeAndBothRatesAreReported() {
        Map<String, Object> m = new DecodeGemmBench(5, 1, false, List.of(new int[] {70, 40}, new int[] {64, 96}))
                .run().metrics();
        assertEquals(5, m.get("rows"));
        for (String shape : List.of("70x40", "64x96")) {
            Map<String, Object> r = (Map<String, Object>) m.get(shape);
            assertTrue((Double) r.get("decodeGflops") > 0 && (Double) r.get("openblasGflops") > 0, r.toString());
            assertTrue((Double) r.get("relativeDifference") < 1e-5, shape + ": " + r);
        }
    }

    @Test
    void impossibleConfigurationsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DecodeGemmBench(0, 1, false, DecodeGemmBench.SHAPES));
        assertThrows(IllegalArgumentException.class, () -> new DecodeGemmBench(16, 1, false, List.of(new int[] {3})));
    }
}
