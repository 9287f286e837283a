package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.Shape;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * Embedding lookup and its dense backward.
 *
 * <p>The backward is a scatter-add, which races when parallelised over token positions. It is
 * done as a gather instead: the positions are bucketed by id (a counting sort, positions in
 * ascending order within each bucket), and each vocabulary row sums its own bucket. Every output
 * row has one writer and a fixed summation order, so the result is deterministic on any number of
 * threads.
 */
final class EmbeddingKernels {
    private EmbeddingKernels() {
    }

    static void forward(KernelArgs c, DType compute, Tensor weight, Tensor ids, Tensor out) {
        c.floating("weight", weight);
        c.index("ids", ids);
        c.floating("out", out);
        c.rank("weight", weight, 2);
        int vocab = weight.dim(0);
        int hidden = weight.dim(1);
        c.shape("out", out, withLast(ids.shape(), hidden));
        c.noOverlap("out", out, "weight", weight);
        int[] id = readIds(c, ids, vocab, weight);
        TensorRows rw = TensorRows.of(weight);
        TensorRows ro = TensorRows.of(out, compute);
        Tiles.of(ro).forEach(1, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] row = new float[len];
            for (long r = r0; r < r1; r++) {
                rw.read(id[(int) r], c0, len, row, 0);
                ro.write(r, c0, len, row, 0);
            }
        });
    }

    static void backward(KernelArgs c, DType compute, Tensor dOut, Tensor ids, Tensor dWeight) {
        c.floating("dOut", dOut);
        c.index("ids", ids);
        c.floating("dWeight", dWeight);
        c.rank("dWeight", dWeight, 2);
        int vocab = dWeight.dim(0);
        int hidden = dWeight.dim(1);
        c.shape("dOut", dOut, withLast(ids.shape(), hidden));
        c.noOverlap("dWeight", dWeight, "dOut", dOut);
        int[] id = readIds(c, ids, vocab, dWeight);
        // Counting sort of positions by id: bucket v is positions[start[v] .. start[v + 1]).
        int[] start = new int[vocab + 1];
        for (int v : id) {
            start[v + 1]++;
        }
        for (int v = 0; v < vocab; v++) {
            start[v + 1] += start[v];
        }
        int[] next = Arrays.copyOf(start, vocab);
        int[] positions = new int[id.length];
        for (int p = 0; p < id.length; p++) {
            positions[next[id[p]]++] = p;
        }
        TensorRows rd = TensorRows.of(dOut);
        TensorRows rw = TensorRows.of(dWeight, compute);
        long costPerElement = 1 + id.length / Math.max(vocab, 1);
        Tiles.of(rw).forEach(costPerElement, (t, r0, r1, c0, c1) -> {
            int len = c1 - c0;
            float[] row = HeapScratch.floats(0, len);
            double[] acc = HeapScratch.doubles(0, len);
            for (long r = r0; r < r1; r++) {
                int v = (int) r;
                Arrays.fill(acc, 0, len, 0);
                for (int j = start[v]; j < start[v + 1]; j++) {
                    rd.read(positions[j], c0, len, row, 0);
                    for (int i = 0; i < len; i++) {
                        acc[i] += row[i];
                    }
                }
                for (int i = 0; i < len; i++) {
                    row[i] = (float) acc[i];
                }
                rw.write(r, c0, len, row, 0);
            }
        });
    }

    private static Shape withLast(Shape s, int last) {
        int[] d = Arrays.copyOf(s.dims(), s.rank() + 1);
        d[s.rank()] = last;
        return Shape.of(d);
    }

    /** The ids in row-major order, each checked to lie in {@code [0, vocab)}. */
    private static int[] readIds(KernelArgs c, Tensor ids, int vocab, Tensor table) {
        int[] id;
        try {
            id = Indices.read(ids);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw c.fail("ids " + ids.describe() + ": " + e.getMessage());
        }
        for (int p = 0; p < id.length; p++) {
            if (id[p] < 0 || id[p] >= vocab) {
                throw c.fail("id " + id[p] + " at position " + p + " " + index(ids.shape(), p) + " of ids "
                        + ids.describe() + " is outside [0, " + vocab + ") for " + table.describe());
            }
        }
        return id;
    }

    /** The multi-index of row-major position {@code p} in {@code s}, for messages. */
    private static String index(Shape s, int p) {
        int[] idx = new int[s.rank()];
        for (int i = s.rank() - 1; i >= 0; i--) {
            idx[i] = p % s.dim(i);
            p /= s.dim(i);
        }
        return Arrays.toString(idx);
    }
}
