package dev.ascendj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ascendj.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** Attention memory grows linearly with the sequence: tensors exactly, scratch at most so. */
class AttentionMemoryTest {
    @Test
    void tensorsAndScratchAreLinearInTheSequenceLength() {
        CpuBackend backend = new CpuBackend(1);
        int h = 4;
        int d = 32;
        AttentionMemory.Result small = AttentionMemory.measure(backend.ops(), 1, 256, h, h, d);
        AttentionMemory.Result big = AttentionMemory.measure(backend.ops(), 1, 1024, h, h, d);
        // q, k, v, dOut, out, dq, dk, dv: 8 x S x H x D floats, plus the log-sum-exp, S x H.
        assertEquals(4L * (8L * 256 * h * d + 256L * h), small.tensorBytes());
        assertEquals(4 * small.tensorBytes(), big.tensorBytes());
        // Counted, not sampled: even the short calls at S = 256 show their scratch.
        assertTrue(small.scratchBytes() > 0, "scratch at S = 256: " + small.scratchBytes());
        assertTrue(big.scratchBytes() <= 5 * small.scratchBytes(),
                "scratch " + small.scratchBytes() + " -> " + big.scratchBytes());
        assertEquals(16 * small.fullScoreBytes(), big.fullScoreBytes());
        assertTrue(big.scratchBytes() < big.fullScoreBytes() / 4, "no full score matrix: " + big.scratchBytes());
    }
}
