package dev.ascendj.train.parallel;

import dev.ascendj.core.Communicator;
import dev.ascendj.core.Device;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;

/**
 * Sums one double per rank over a group, identically on every rank and in rank order, without
 * losing it to FP32: each value travels as a pair of floats (its rounding and the remainder).
 */
final class GroupSums {
    private GroupSums() {
    }

    static double sum(Communicator group, Device device, double value) {
        double s = 0;
        for (double v : all(group, device, value)) {
            s += v;
        }
        return s;
    }

    /** Every rank's {@code value}, in rank order (each carried as a pair of floats). */
    static double[] all(Communicator group, Device device, double value) {
        if (group == null || group.size() == 1) {
            return new double[] {value};
        }
        float hi = (float) value;
        float lo = (float) (value - hi);
        try (Tensor mine = Tensor.fromFloats(device, Shape.of(2), hi, lo);
             Tensor all = Tensor.empty(device, dev.ascendj.core.DType.FP32, Shape.of(2L * group.size()))) {
            group.allGather(mine, all);
            float[] a = all.toFloatArray();
            double[] out = new double[group.size()];
            for (int r = 0; r < group.size(); r++) {
                out[r] = (double) a[2 * r] + a[2 * r + 1];
            }
            return out;
        }
    }
}
