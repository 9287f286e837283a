package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.FastExp;
import dev.ascendj.core.Tensor;
import java.util.Arrays;

/**
 * One worker of the attention forward: computes whole query heads, one tile of query rows at a
 * time, with a scratch score block of {@code tile x Sk}.
 */
final class AttentionForward implements AutoCloseable {
    private final AttentionShape sh;
    private final HeadReader q;
    private final HeadReader k;
    private final HeadReader v;
    private final TileWriter out;
    private final TensorRows lse;
    private final Scratch scores;
    private final float[] p;
    private final float[] tmp;
    private final float[] lseRow;

    AttentionForward(AttentionShape sh, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, DType compute) {
        this.sh = sh;
        this.q = new HeadReader(q);
        this.k = new HeadReader(k);
        this.v = new HeadReader(v);
        this.out = new TileWriter(out, compute, sh.tile());
        this.lse = lse == null ? null : TensorRows.of(lse);
        this.scores = new Scratch((long) sh.tile() * sh.sk());
        this.p = new float[sh.tile() * sh.sk()];
        this.tmp = new float[p.length];
        this.lseRow = new float[sh.sq()];
    }

    /** Computes output head {@code h} of batch {@code b} and its log-sum-exp row. */
    void head(int b, int h) {
        int g = h / sh.group();
        HeadMatrix qm = q.head(b, h);
        HeadMatrix km = k.head(b, g);
        HeadMatrix vm = v.head(b, g);
        for (int i0 = 0; i0 < sh.sq(); i0 += sh.tile()) {
            tile(b, h, qm, km, vm, i0, Math.min(sh.tile(), sh.sq() - i0));
        }
        if (lse != null) {
            lse.write((long) b * sh.h() + h, lseRow, 0);
        }
    }

    private void tile(int b, int h, HeadMatrix qm, HeadMatrix km, HeadMatrix vm, int i0, int rows) {
        int kc = sh.visible(i0 + rows - 1); // keys the tile's last row sees; earlier rows see fewer
        if (kc == 0) {
            out.zero(b, h, i0, rows);
            Arrays.fill(lseRow, i0, i0 + rows, Float.NEGATIVE_INFINITY);
            return;
        }
        int block = sh.keyBlock();
        for (int j0 = 0; j0 < kc; j0 += block) {
            int n = Math.min(block, kc - j0);
            Blas.sgemm(false, true, rows, n, sh.d(), sh.scale(), qm.row(i0), qm.ld(), km.row(j0), km.ld(),
                    0f, Scratch.at(scores.ptr, j0), kc);
        }
        scores.buf.get(0, p, 0, rows * kc);
        for (int r = 0; r < rows; r++) {
            lseRow[i0 + r] = softmax(r * kc, kc, sh.visible(i0 + r));
        }
        scores.buf.put(0, p, 0, rows * kc);
        HeadMatrix o = out.target(b, h, i0);
        for (int j0 = 0; j0 < kc; j0 += block) {
            int n = Math.min(block, kc - j0);
            Blas.sgemm(false, false, rows, sh.d(), n, 1f, Scratch.at(scores.ptr, j0), kc, vm.row(j0), vm.ld(),
                    j0 == 0 ? 0f : 1f, o.ptr(), o.ld());
        }
        out.flush(b, h, i0, rows);
    }

    /**
     * Turns the scores {@code p[off .. off+kc)} into probabilities in place, keys from
     * {@code visible} on masked to zero, and returns the row's log-sum-exp.
     */
    private float softmax(int off, int kc, int visible) {
        if (visible == 0) {
            Arrays.fill(p, off, off + kc, 0f);
            return Float.NEGATIVE_INFINITY;
        }
        int end = off + visible;
        float max = FastExp.max(p, off, end);
        double sum = FastExp.expShiftedSum(p, off, end, max, tmp);
        float inv = (float) (1.0 / sum);
        for (int j = off; j < end; j++) {
            p[j] *= inv;
        }
        Arrays.fill(p, end, off + kc, 0f);
        return (float) (max + Math.log(sum));
    }

    @Override
    public void close() {
        try (q; k; v; out; scores) {
            // closes every scratch block, even if one close fails
        }
    }
}
