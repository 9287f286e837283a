package dev.ascendj.cpu;

import dev.ascendj.core.DType;
import dev.ascendj.core.FastExp;
import dev.ascendj.core.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/**
 * One worker of the attention backward: handles whole key/value heads, accumulating their dK and
 * dV in scratch over the query heads that read them (in head order, so without races and in a
 * fixed summation order), one tile of query rows at a time.
 */
final class AttentionBackward implements AutoCloseable {
    private final AttentionShape sh;
    private final HeadReader q;
    private final HeadReader k;
    private final HeadReader v;
    private final HeadReader dOut;
    private final TensorRows outRows;
    private final TensorRows dOutRows;
    private final TensorRows lse;
    private final TileWriter dq;
    private final TensorRows dk;
    private final TensorRows dv;
    private final Scratch probs;
    private final Scratch dScores;
    private final Scratch dkAcc;
    private final Scratch dvAcc;
    private final float[] p;
    private final float[] ds;
    private final float[] tmp;
    private final float[] lseRow;
    private final float[] rowDot;
    private final float[] row;
    private final float[] row2;

    AttentionBackward(AttentionShape sh, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                      Tensor dq, Tensor dk, Tensor dv, DType compute) {
        this.sh = sh;
        this.q = new HeadReader(q);
        this.k = new HeadReader(k);
        this.v = new HeadReader(v);
        this.dOut = new HeadReader(dOut);
        this.outRows = TensorRows.of(out);
        this.dOutRows = TensorRows.of(dOut);
        this.lse = TensorRows.of(lse);
        this.dq = new TileWriter(dq, compute, sh.tile());
        this.dk = TensorRows.of(dk, compute);
        this.dv = TensorRows.of(dv, compute);
        long block = (long) sh.tile() * sh.sk();
        this.probs = new Scratch(block);
        this.dScores = new Scratch(block);
        this.dkAcc = new Scratch((long) sh.sk() * sh.d());
        this.dvAcc = new Scratch((long) sh.sk() * sh.d());
        this.p = new float[(int) block];
        this.ds = new float[(int) block];
        this.tmp = new float[(int) block];
        this.lseRow = new float[sh.sq()];
        this.rowDot = new float[sh.sq()];
        this.row = new float[sh.d()];
        this.row2 = new float[sh.d()];
    }

    /** Computes dK and dV of key/value head {@code g} of batch {@code b}, and dQ of its query heads. */
    void kvHead(int b, int g) {
        HeadMatrix km = k.head(b, g);
        HeadMatrix vm = v.head(b, g);
        long bytes = 4L * sh.sk() * sh.d();
        Pointer.memset(dkAcc.ptr, 0, bytes);
        Pointer.memset(dvAcc.ptr, 0, bytes);
        for (int h = g * sh.group(); h < (g + 1) * sh.group(); h++) {
            queryHead(b, h, km, vm);
        }
        int d = sh.d();
        for (int j = 0; j < sh.sk(); j++) {
            long r = sh.keyRow(b, j, g);
            dkAcc.buf.get(j * d, row, 0, d);
            dk.write(r, row, 0);
            dvAcc.buf.get(j * d, row, 0, d);
            dv.write(r, row, 0);
        }
    }

    private void queryHead(int b, int h, HeadMatrix km, HeadMatrix vm) {
        HeadMatrix qm = q.head(b, h);
        HeadMatrix dom = dOut.head(b, h);
        lse.read((long) b * sh.h() + h, lseRow, 0);
        // D_i = dO_i . O_i, the row term of the softmax backward
        for (int i = 0; i < sh.sq(); i++) {
            long r = sh.queryRow(b, i, h);
            dOutRows.read(r, row, 0);
            outRows.read(r, row2, 0);
            double acc = 0;
            for (int e = 0; e < sh.d(); e++) {
                acc += (double) row[e] * row2[e];
            }
            rowDot[i] = (float) acc;
        }
        for (int i0 = 0; i0 < sh.sq(); i0 += sh.tile()) {
            tile(b, h, qm, km, vm, dom, i0, Math.min(sh.tile(), sh.sq() - i0));
        }
    }

    private void tile(int b, int h, HeadMatrix qm, HeadMatrix km, HeadMatrix vm, HeadMatrix dom, int i0, int rows) {
        int kc = sh.visible(i0 + rows - 1);
        if (kc == 0) {
            dq.zero(b, h, i0, rows);
            return;
        }
        int block = sh.keyBlock();
        int d = sh.d();
        // S = scale Q K^T into probs, dP = dO V^T into dScores
        for (int j0 = 0; j0 < kc; j0 += block) {
            int n = Math.min(block, kc - j0);
            Blas.sgemm(false, true, rows, n, d, sh.scale(), qm.row(i0), qm.ld(), km.row(j0), km.ld(),
                    0f, Scratch.at(probs.ptr, j0), kc);
            Blas.sgemm(false, true, rows, n, d, 1f, dom.row(i0), dom.ld(), vm.row(j0), vm.ld(),
                    0f, Scratch.at(dScores.ptr, j0), kc);
        }
        int count = rows * kc;
        probs.buf.get(0, p, 0, count);
        dScores.buf.get(0, ds, 0, count);
        // P = exp(S - lse) on visible keys, dS = P * (dP - D_i), zero on masked keys
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            int off = r * kc;
            int end = off + sh.visible(i);
            FastExp.expShifted(p, off, end, lseRow[i], tmp);
            float di = rowDot[i];
            for (int j = off; j < end; j++) {
                ds[j] = p[j] * (ds[j] - di);
            }
            Arrays.fill(p, end, off + kc, 0f);
            Arrays.fill(ds, end, off + kc, 0f);
        }
        probs.buf.put(0, p, 0, count);
        dScores.buf.put(0, ds, 0, count);
        // dQ = scale dS K;  dK += scale dS^T Q;  dV += P^T dO
        HeadMatrix dqm = dq.target(b, h, i0);
        for (int j0 = 0; j0 < kc; j0 += block) {
            int n = Math.min(block, kc - j0);
            Blas.sgemm(false, false, rows, d, n, sh.scale(), Scratch.at(dScores.ptr, j0), kc, km.row(j0), km.ld(),
                    j0 == 0 ? 0f : 1f, dqm.ptr(), dqm.ld());
            Blas.sgemm(true, false, n, d, rows, sh.scale(), Scratch.at(dScores.ptr, j0), kc, qm.row(i0), qm.ld(),
                    1f, Scratch.at(dkAcc.ptr, (long) j0 * d), d);
            Blas.sgemm(true, false, n, d, rows, 1f, Scratch.at(probs.ptr, j0), kc, dom.row(i0), dom.ld(),
                    1f, Scratch.at(dvAcc.ptr, (long) j0 * d), d);
        }
        dq.flush(b, h, i0, rows);
    }

    @Override
    public void close() {
        try (q; k; v; dOut; dq; probs; dScores; dkAcc; dvAcc) {
            // closes every scratch block, even if one close fails
        }
    }
}
