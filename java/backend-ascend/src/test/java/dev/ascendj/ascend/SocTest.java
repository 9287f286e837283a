package dev.ascendj.ascend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SocTest {
    @ParameterizedTest
    @CsvSource({
        "Ascend910A, false, false, true",
        "Ascend910ProA, false, false, true",
        "Ascend910ProB, false, false, true",
        "Ascend910PremiumA, false, false, true",
        "Ascend910B1, true, true, false",
        "Ascend910B4, true, true, false",
        "Ascend910_9391, true, true, false",
        "Ascend310P3, false, false, false",
    })
    void fusedOperatorsAndBf16FollowTheSocName(String name, boolean fused, boolean bf16, boolean atlasTraining) {
        Soc soc = Soc.of(name);
        assertEquals(fused, soc.fusedOps());
        assertEquals(bf16, soc.bf16());
        assertEquals(atlasTraining, soc.isAtlasTraining());
    }
}
