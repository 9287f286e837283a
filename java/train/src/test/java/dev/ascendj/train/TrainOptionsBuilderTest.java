package dev.ascendj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TrainOptionsBuilderTest {

    @Test
    void unsetFieldsAreTheDefaults() {
        assertEquals(TrainOptions.defaults(200, 4, 3e-3, 11),
                TrainOptions.builder().steps(200).microBatch(4).lr(3e-3).seed(11).build());
    }

    @Test
    void everyFieldLandsInItsPlace() {
        TrainOptions o = TrainOptions.builder().steps(7).microBatch(2).gradAccumulation(3).lr(0.5).minLr(0.25)
                .warmupSteps(4).weightDecay(0.125).betas(0.8, 0.9).eps(1e-6).clipNorm(2).seed(9).checkpointEvery(5)
                .keepCheckpoints(3).recompute(true).build();
        assertEquals(new TrainOptions(7, 2, 3, 0.5, 0.25, 4, 0.125, 0.8, 0.9, 1e-6, 2, 9, 5, 3, true), o);
    }

    @Test
    void buildValidatesAsTheConstructorDoes() {
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.builder().steps(0).build());
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.builder().clipNorm(Double.NaN).build());
    }
}
