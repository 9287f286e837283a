package dev.ascendj.train.parallel;

/**
 * How a parameter is divided among the ranks of a tensor-parallel group, Megatron's way.
 *
 * <ul>
 *   <li>{@link Split#COLUMN_PARALLEL}: q/k/v and gate/up weights split by output (rows of
 *       [out, in]); the layer input is replicated, so the input gradient is a partial sum that is
 *       all-reduced before the preceding norm's backward.</li>
 *   <li>{@link Split#ROW_PARALLEL}: o and down weights split by input (columns); each rank's
 *       output is a partial sum, all-reduced before the residual add.</li>
 *   <li>{@link Split#VOCAB_PARALLEL}: embedding and LM head split by vocabulary rows.</li>
 *   <li>{@link Split#REPLICATED}: norms, and the LoRA matrix on the unsplit side of a split
 *       linear (A of a column-parallel one, B of a row-parallel one).</li>
 * </ul>
 *
 * @param split            which dimension is divided
 * @param gradSummedOverTp whether each rank's gradient is only a partial sum that must be
 *                         all-reduced over the tensor-parallel group (true for the replicated LoRA
 *                         matrices: they see a split activation or a split gradient)
 */
public record ShardSpec(Split split, boolean gradSummedOverTp) {
    /** Which dimension of a parameter is divided among tensor-parallel ranks. */
    public enum Split {
        REPLICATED(-1), COLUMN_PARALLEL(0), ROW_PARALLEL(1), VOCAB_PARALLEL(0);

        private final int axis;

        Split(int axis) {
            this.axis = axis;
        }

        /** The axis of the [out, in] (or [vocab, hidden]) tensor that is divided; -1 for none. */
        public int axis() {
            return axis;
        }
    }

    /** The spec of a parameter by its Hugging Face name. */
    public static ShardSpec of(String name) {
        if (name.endsWith("embed_tokens.weight") || name.equals("lm_head.weight")) {
            return new ShardSpec(Split.VOCAB_PARALLEL, false);
        }
        boolean column = name.contains("q_proj") || name.contains("k_proj") || name.contains("v_proj")
                || name.contains("gate_proj") || name.contains("up_proj");
        boolean row = name.contains("o_proj") || name.contains("down_proj");
        if (!column && !row) {
            return new ShardSpec(Split.REPLICATED, false);
        }
        if (name.endsWith(".lora_A.weight")) {
            return column ? new ShardSpec(Split.REPLICATED, true) : new ShardSpec(Split.ROW_PARALLEL, false);
        }
        if (name.endsWith(".lora_B.weight")) {
            return column ? new ShardSpec(Split.COLUMN_PARALLEL, false) : new ShardSpec(Split.REPLICATED, true);
        }
        return new ShardSpec(column ? Split.COLUMN_PARALLEL : Split.ROW_PARALLEL, false);
    }

    /**
     * Part {@code index} of {@code parts} of a row-major [rows, cols] (or 1D) array along this
     * split; {@code full} itself (not a copy: callers only read parts) when it is not split.
     */
    public float[] slice(float[] full, int[] shape, int index, int parts) {
        int axis = split.axis();
        if (axis < 0 || parts == 1) {
            return full;
        }
        int rows = shape[0];
        int cols = shape.length > 1 ? shape[1] : 1;
        if (axis == 0) {
            int r = rows / parts;
            float[] out = new float[r * cols];
            System.arraycopy(full, index * r * cols, out, 0, out.length);
            return out;
        }
        int c = cols / parts;
        float[] out = new float[rows * c];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(full, i * cols + index * c, out, i * c, c);
        }
        return out;
    }

    /** The shape of one part. */
    public int[] partShape(int[] shape, int parts) {
        int[] s = shape.clone();
        if (split.axis() >= 0) {
            s[split.axis()] /= parts;
        }
        return s;
    }

    /** Joins the parts of every tensor-parallel rank (in rank order) into the full array. */
    public float[] join(java.util.List<float[]> parts, int[] fullShape) {
        if (split.axis() < 0 || parts.size() == 1) {
            return parts.get(0).clone();
        }
        int n = parts.size();
        int rows = fullShape[0];
        int cols = fullShape.length > 1 ? fullShape[1] : 1;
        float[] out = new float[rows * cols];
        if (split.axis() == 0) {
            int len = rows / n * cols;
            for (int i = 0; i < n; i++) {
                System.arraycopy(parts.get(i), 0, out, i * len, len);
            }
        } else {
            int c = cols / n;
            for (int i = 0; i < n; i++) {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(parts.get(i), r * c, out, r * cols + i * c, c);
                }
            }
        }
        return out;
    }
}
