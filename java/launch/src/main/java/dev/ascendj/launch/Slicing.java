package dev.ascendj.launch;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Which part of a parameter a rank holds in a MindSpore semi-auto-parallel run, from the
 * parameter's {@link StrategyFile.Layout}, following MindSpore's
 * {@code mindspore/python/mindspore/parallel/_tensor.py}:
 * <ul>
 * <li>the split count of tensor dimension i is {@code dev_matrix[len - 1 - tensor_map[i]]}, or 1
 *     where {@code tensor_map[i] = -1} ({@code _get_tensor_strategy});</li>
 * <li>a rank's coordinate in the device matrix is its index written in the matrix's mixed radix,
 *     last dimension fastest ({@code _rank_to_coordinate}); its slice of dimension i is the
 *     coordinate of the device dimension that tensor dimension i maps to
 *     ({@code _get_tensor_slice_index}); ranks differing only in unmapped device dimensions hold
 *     the same slice;</li>
 * <li>with optimizer sharding ({@code opt_weight_shard_step} s, {@code opt_weight_shard_size} n;
 *     n = -1 means every rank holding the slice, {@code _extract_layout_item}) the slice is cut
 *     again into n equal parts along dimension 0 and rank r keeps part {@code (r / s) mod n}; s must
 *     be the slice count ({@code _construct_tensor_layout_for_opt_shard}: the device matrix becomes
 *     [repeat, n, splits...]).</li>
 * </ul>
 * Ranks are local to the parameter's pipeline stage (0 .. product of the device matrix - 1).
 */
public final class Slicing {

    private Slicing() {
    }

    /** Ranks that hold a parameter with this layout: the product of the device matrix. */
    public static int devices(StrategyFile.Layout l) {
        int n = 1;
        for (int d : l.devMatrix()) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Split count per tensor dimension. */
    public static int[] splits(StrategyFile.Layout l, String name) {
        List<Integer> dev = l.devMatrix();
        int[] s = new int[l.tensorMap().size()];
        for (int i = 0; i < s.length; i++) {
            int m = l.tensorMap().get(i);
            if (m == -1) {
                s[i] = 1;
            } else if (m < 0 || m >= dev.size()) {
                throw new LaunchException(name + ": tensor_map " + l.tensorMap() + " names device dimension " + m + " of a "
                        + dev.size() + "-dimensional device matrix " + dev);
            } else {
                s[i] = dev.get(dev.size() - 1 - m);
            }
        }
        return s;
    }

    /** The optimizer-shard group size (1 when the parameter is not optimizer-sharded). */
    public static int optShards(StrategyFile.Layout l, String name) {
        if (l.optShardStep() == 0 || l.optShardSize() == 0) {
            return 1;
        }
        int slices = 1;
        for (int s : splits(l, name)) {
            slices *= s;
        }
        if (l.optShardStep() != slices) {
            throw new LaunchException(name + ": opt_weight_shard_step " + l.optShardStep() + " is not the " + slices
                    + " model-parallel slices; MindSpore cannot merge such a layout either");
        }
        int n = l.optShardSize() == -1 ? devices(l) / l.optShardStep() : l.optShardSize();
        if (n < 1 || devices(l) % ((long) n * l.optShardStep()) != 0) {
            throw new LaunchException(name + ": opt_weight_shard_size " + l.optShardSize() + " does not divide the " + devices(l)
                    + " ranks of its device matrix");
        }
        return n;
    }

    /**
     * The block rank {@code r} holds: its offset per tensor dimension, in elements of the full
     * tensor, given the block (slice) shape.
     */
    public static long[] blockOffset(StrategyFile.Layout l, int r, long[] block, String name) {
        List<Integer> dev = l.devMatrix();
        int nd = dev.size();
        int[] coord = new int[nd];
        int rest = r;
        for (int i = nd - 1; i >= 0; i--) {
            coord[i] = rest % dev.get(i);
            rest /= dev.get(i);
        }
        int[] s = splits(l, name);
        int[] slice = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            int m = l.tensorMap().get(i);
            slice[i] = m == -1 ? 0 : coord[nd - 1 - m];
        }
        int n = optShards(l, name);
        int part = 0;
        if (n > 1) {
            // MindSpore's layout for optimizer shards numbers the model-parallel slices by the low
            // rank digits (rank mod step, the splits as a mixed radix, last fastest); the
            // device-matrix reading above must agree, or the layout is not one MindSpore writes.
            int mp = r % l.optShardStep();
            for (int i = s.length - 1; i >= 0; i--) {
                if (slice[i] != mp % s[i]) {
                    throw new LaunchException(name + ": device matrix " + dev + " with tensor_map " + l.tensorMap()
                            + " and optimizer sharding does not number its slices by rank; cannot place rank " + r);
                }
                mp /= s[i];
            }
            part = (r / l.optShardStep()) % n;
        }
        long[] off = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            off[i] = i == 0 ? ((long) slice[0] * n + part) * block[0] : (long) slice[i] * block[i];
        }
        return off;
    }

    /** The shape of one rank's block of a tensor of {@code full} shape. */
    public static long[] blockShape(StrategyFile.Layout l, long[] full, String name) {
        int[] s = splits(l, name);
        if (s.length != full.length) {
            throw new LaunchException(name + ": tensor_map " + l.tensorMap() + " has " + s.length + " dimensions, the tensor "
                    + java.util.Arrays.toString(full) + " has " + full.length);
        }
        long[] b = new long[full.length];
        for (int i = 0; i < full.length; i++) {
            if (full[i] % s[i] != 0) {
                throw new LaunchException(name + ": dimension " + i + " of " + java.util.Arrays.toString(full) + " does not split into " + s[i]);
            }
            b[i] = full[i] / s[i];
        }
        int n = optShards(l, name);
        if (n > 1) {
            if (b.length == 0 || b[0] % n != 0) {
                throw new LaunchException(name + ": dimension 0 of the slice " + java.util.Arrays.toString(b) + " does not split into "
                        + n + " optimizer shards");
            }
            b[0] /= n;
        }
        return b;
    }

    /** The full shape from a rank's block shape. */
    public static long[] fullShape(StrategyFile.Layout l, long[] block, String name) {
        int[] s = splits(l, name);
        if (s.length != block.length) {
            throw new LaunchException(name + ": tensor_map " + l.tensorMap() + " has " + s.length + " dimensions, the slice "
                    + java.util.Arrays.toString(block) + " has " + block.length);
        }
        if (!l.splitShape().isEmpty() || l.field() != 0) {
            throw new LaunchException(name + ": uneven splits (param_split_shape) and field layouts are not supported");
        }
        long[] f = new long[block.length];
        for (int i = 0; i < block.length; i++) {
            f[i] = block[i] * s[i];
        }
        if (f.length > 0) {
            f[0] *= optShards(l, name);
        }
        return f;
    }

    /**
     * Copies a block between a full tensor and its own buffer: {@code toFull} writes the block
     * into the full tensor, otherwise the block is read out of it. Buffers hold little-endian
     * elements of {@code elem} bytes from position 0.
     */
    public static void copy(ByteBuffer full, long[] fullShape, ByteBuffer block, long[] blockShape, long[] offset, int elem, boolean toFull) {
        int nd = fullShape.length;
        if (nd == 0) {
            copyRun(full, 0, block, 0, elem, toFull);
            return;
        }
        long[] stride = new long[nd];
        stride[nd - 1] = 1;
        for (int i = nd - 2; i >= 0; i--) {
            stride[i] = stride[i + 1] * fullShape[i + 1];
        }
        long runs = 1;
        for (int i = 0; i < nd - 1; i++) {
            runs *= blockShape[i];
        }
        int runBytes = Math.toIntExact(blockShape[nd - 1] * elem);
        long[] idx = new long[nd];
        for (long k = 0; k < runs; k++) {
            long fullPos = offset[nd - 1];
            for (int i = 0; i < nd - 1; i++) {
                fullPos += (offset[i] + idx[i]) * stride[i];
            }
            copyRun(full, fullPos * elem, block, k * runBytes, runBytes, toFull);
            for (int i = nd - 2; i >= 0; i--) {
                if (++idx[i] < blockShape[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    private static void copyRun(ByteBuffer full, long fullByte, ByteBuffer block, long blockByte, int n, boolean toFull) {
        ByteBuffer src = (toFull ? block : full).duplicate();
        ByteBuffer dst = (toFull ? full : block).duplicate();
        int from = Math.toIntExact(toFull ? blockByte : fullByte);
        int to = Math.toIntExact(toFull ? fullByte : blockByte);
        src.limit(from + n).position(from);
        dst.position(to);
        dst.put(src);
    }
}
