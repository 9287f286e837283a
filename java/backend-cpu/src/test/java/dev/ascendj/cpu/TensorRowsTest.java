package dev.ascendj.cpu;

import static dev.ascendj.cpu.KernelTestSupport.DEVICE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ascendj.core.DType;
import dev.ascendj.core.Scope;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import org.junit.jupiter.api.Test;

class TensorRowsTest {

    /** The offset of row {@code r} from the multi-index of its leading axes, written out directly. */
    private static long expectedOffset(Tensor t, long r) {
        long off = t.offset();
        for (int i = t.rank() - 2; i >= 0; i--) {
            off += (r % t.dim(i)) * t.stride(i);
            r /= t.dim(i);
        }
        return off;
    }

    private static void assertOffsets(Tensor t) {
        TensorRows rows = TensorRows.of(t);
        for (long r = 0; r < rows.rows(); r++) {
            assertEquals(expectedOffset(t, r), rows.rowOffset(r), "row " + r + " of " + t.describe());
        }
    }

    @Test
    void rowOffsetsFollowTheStridesOfEveryKindOfView() {
        try (Scope s = Scope.open()) {
            Tensor base = Tensor.zeros(DEVICE, DType.FP32, Shape.of(4, 6, 5, 8));
            assertOffsets(base);                                   // contiguous: one row stride
            assertOffsets(base.slice(3, 2, 7));                    // narrowed rows: same row stride
            assertOffsets(base.slice(1, 1, 4));                    // a gap between outer blocks
            assertOffsets(base.slice(0, 1, 2));                    // a size-1 leading axis
            assertOffsets(base.slice(2, 3, 4));                    // a size-1 inner axis
            assertOffsets(base.transpose(0, 1));                   // outer axes out of order
            assertOffsets(base.permute(2, 0, 1, 3));
            assertOffsets(base.transpose(2, 3));                   // rows along a strided axis
            assertOffsets(base.reshape(24, 40).slice(0, 5, 17));
            assertOffsets(Tensor.zeros(DEVICE, DType.FP32, Shape.of(7)));  // one row
            assertOffsets(Tensor.zeros(DEVICE, DType.FP32, Shape.of()));   // a scalar
        }
    }
}
