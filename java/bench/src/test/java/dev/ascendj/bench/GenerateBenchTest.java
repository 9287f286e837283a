package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The generation benchmark measures prefill and decoding apart and reports consistent figures (no speed is asserted). */
@Timeout(120)
class GenerateBenchTest {
    @Test
    @SuppressWarnings("unchecked")
    void decodingAndPrefillAreReportedApart() {
        GenerateBench.Config c = new GenerateBench.Config(List.of("llama2-15m"), 2, 1, DType.BF16, 250, 4, 1, false, false, 7,
                0.8, 0.9);
        Map<String, Object> m = new GenerateBench(c).run().metrics();
        assertEquals("bf16", m.get("dtype"));
        assertEquals(0.8, m.get("temperature"));
        assertEquals(0.9, m.get("topP"));
        assertTrue(((String) m.get("kernels")).contains("1 thread"), m.toString());
        Map<String, Object> shape = (Map<String, Object>) m.get("llama2-15m");
        Map<String, Object> decode = (Map<String, Object>) shape.get("decode");
        Map<String, Object> prefill = (Map<String, Object>) shape.get("prefill");
        assertEquals(2L * 6, decode.get("tokens"), "two sequences from position 250 to 256");
        assertEquals(2L * 250, prefill.get("tokens"));
        for (Map<String, Object> r : List.of(decode, prefill)) {
            double tps = (Double) r.get("tokensPerSecond");
            assertEquals((Long) r.get("tokens") / (Double) r.get("seconds"), tps, 1e-9 * tps);
        }
        assertTrue(new BenchResult("x", m).render().contains("tokensPerSecond"));
    }

    @Test
    void impossibleConfigurationsAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new GenerateBench.Config(List.of("llama2-70b"), 1, 1, DType.FP32, 16, 4, 1, false, false, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new GenerateBench.Config(List.of("llama2-15m"), 1, 1, DType.FP32, 256, 4, 1, false, false, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new GenerateBench.Config(List.of("llama2-15m"), 1, 1, DType.INT8, 16, 4, 1, false, false, 1));
        IllegalArgumentException topP = assertThrows(IllegalArgumentException.class,
                () -> new GenerateBench.Config(List.of("llama2-15m"), 1, 1, DType.FP32, 16, 4, 1, false, false, 1, 0.8, 0));
        assertTrue(topP.getMessage().contains("top-p must lie in (0, 1]"), topP.getMessage());
    }
}
