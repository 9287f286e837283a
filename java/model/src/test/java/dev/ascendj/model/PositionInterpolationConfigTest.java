package dev.ascendj.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.core.Device;
import dev.ascendj.core.Ops;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import dev.ascendj.cpu.CpuBackend;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Position interpolation in configs: factor, extended context, validation, and a model reconfigured for it. */
class PositionInterpolationConfigTest {
    private static final LlamaConfig BASE = LlamaConfigs.preset("llama2-7b");

    @Test
    void interpolationRecordsTheOriginalContextAndExtendsMaxPositions() {
        LlamaConfig c = BASE.withPositionInterpolation(4);
        assertEquals(new RopeScaling("linear", 4, 4096), c.ropeScaling());
        assertEquals(16384, c.maxPositionEmbeddings());
        assertEquals(16384, c.maxSequenceLength());
        assertEquals(4096, c.originalMaxPositionEmbeddings());
        String json = LlamaConfigs.toJson(c);
        assertTrue(json.contains("\"original_max_position_embeddings\" : 4096"), json);
        assertTrue(json.contains("\"max_position_embeddings\" : 16384"), json);
        LlamaConfig back = LlamaConfigs.parse(json, "round trip");
        assertEquals(c, back);
        assertEquals(16384, back.maxSequenceLength(), "the extended context is not multiplied again");
    }

    @Test
    void aNewFactorIsRelativeToTheOriginalContext() {
        LlamaConfig twice = BASE.withPositionInterpolation(4).withPositionInterpolation(2);
        assertEquals(8192, twice.maxPositionEmbeddings());
        assertEquals(4096, twice.ropeScaling().originalMaxPositionEmbeddings());
        LlamaConfig none = BASE.withPositionInterpolation(4).withPositionInterpolation(1);
        assertNull(none.ropeScaling());
        assertEquals(4096, none.maxPositionEmbeddings());
        assertFalse(LlamaConfigs.toJson(BASE.withRopeScaling(RopeScaling.linear(2))).contains("original_max"),
                "no original recorded unless known");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, -1, 0.5, Double.NaN, Double.POSITIVE_INFINITY})
    void badFactorsAreRejectedNamingTheField(double factor) {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> BASE.withPositionInterpolation(factor));
        assertTrue(e.getMessage().contains("rope_scaling.factor") && e.getMessage().contains("finite number >= 1")
                && e.getMessage().contains(Double.toString(factor)), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-2", "0.25", "\"NaN\"", "\"4\"", "1e400"})
    void badFactorsInConfigJsonAreRejected(String factor) {
        String json = LlamaConfigs.toJson(BASE).replace("\"rope_scaling\" : null",
                "\"rope_scaling\" : {\"type\": \"linear\", \"factor\": " + factor + "}");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfigs.parse(json, "cfg.json"));
        assertTrue(e.getMessage().contains("cfg.json") && e.getMessage().contains("rope_scaling.factor"), e.getMessage());
    }

    @Test
    void badOriginalContextIsRejected() {
        String json = LlamaConfigs.toJson(BASE).replace("\"rope_scaling\" : null",
                "\"rope_scaling\" : {\"type\": \"linear\", \"factor\": 2, \"original_max_position_embeddings\": 0}");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> LlamaConfigs.parse(json, "cfg.json"));
        assertTrue(e.getMessage().contains("rope_scaling.original_max_position_embeddings"), e.getMessage());
    }

    @Test
    void aReconfiguredModelKeepsItsWeightsAndUsesTheNewScaling() {
        CpuBackend backend = new CpuBackend(1);
        Device dev = backend.device(0);
        Ops ops = backend.ops();
        LlamaConfig tiny = LlamaConfig.builder().layers(1).vocab(40).positions(16).build();
        int[] ids = new int[24];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7) % 40;
        }
        float[] plain;
        float[] scaled;
        LlamaModel m = LlamaModel.initialize(tiny, dev, 1, null);
        try (Scope s = Scope.open()) {
            plain = m.nextTokenLogits(ops, Tensor.fromInts(dev, Shape.of(1, 24), ids), 1, 24, null).toFloatArray();
        }
        assertThrows(IllegalArgumentException.class, () -> m.reconfigured(
                LlamaConfig.builder().layers(1).kvHeads(2).vocab(40).positions(16).build()));
        try (LlamaModel pi = m.reconfigured(tiny.withPositionInterpolation(2));
             Scope s = Scope.open()) {
            assertEquals(32, pi.config().maxPositionEmbeddings());
            assertTrue(pi.parameters().values().stream().allMatch(p -> m.parameters().get(p.name()) == p));
            scaled = pi.nextTokenLogits(ops, Tensor.fromInts(dev, Shape.of(1, 24), ids), 1, 24, null).toFloatArray();
        }
        assertFalse(Arrays.equals(plain, scaled), "positions are interpolated");
    }
}
