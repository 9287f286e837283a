package dev.ascendj.model.decode;

/**
 * The decode kernels in plain Java: the fallback when the Vector API is not available, and the
 * specification the vector kernels are tested against (they must agree bit for bit).
 */
public final class ScalarKernels extends DecodeKernels {
    /** Panel width of the scalar kernels: that of the 512-bit vector kernels, so layouts agree. */
    static final int WIDTH = 32;

    @Override
    public int panelWidth() {
        return WIDTH;
    }

    @Override
    public String describe() {
        return "scalar";
    }

    @Override
    void tile(float[] w, int off, int panelStride, int np, int kc, float[] x, int xOff, int xStride, int mr, float[] y,
              int yOff, int yStride, boolean accumulate, int cols) {
        float[] acc = new float[np * WIDTH];
        for (int i = 0; i < mr; i++) {
            int yo = yOff + i * yStride;
            for (int j = 0; j < cols; j++) {
                acc[j] = accumulate ? y[yo + j] : 0f;
            }
            int xo = xOff + i * xStride;
            for (int k = 0; k < kc; k++) {
                float xv = x[xo + k];
                for (int q = 0; q < np; q++) {
                    int wo = off + q * panelStride + k * WIDTH;
                    int c0 = q * WIDTH;
                    int n = Math.min(WIDTH, cols - c0);
                    for (int j = 0; j < n; j++) {
                        acc[c0 + j] = Math.fma(w[wo + j], xv, acc[c0 + j]);
                    }
                }
            }
            System.arraycopy(acc, 0, y, yo, cols);
        }
    }

    @Override
    void unpack(PackedMatrix w, int p, int k0, int kc, float[] dst, int dstOff) {
        unpackScalar(w, p, k0, kc, dst, dstOff);
    }

    /** {@link #unpack} for any panel width (the vector kernels use it where they have no faster form). */
    static void unpackScalar(PackedMatrix w, int p, int k0, int kc, float[] dst, int dstOff) {
        int width = w.width();
        if (w instanceof PackedMatrix.HalfPanels h) {
            int src = (int) h.index(p, k0, 0);
            for (int i = 0; i < kc * width; i++) {
                dst[dstOff + i] = h.value(h.data[src + i]);
            }
        } else if (w instanceof PackedMatrix.Nf4Panels q) {
            int half = width / 2;
            int k = k0;
            int end = k0 + kc;
            while (k < end) {
                int s = q.segment(p, k);
                int stop = Math.min(end, q.segmentEnd(p, s));
                int am = s * width;
                for (; k < stop; k++) {
                    int src = (int) (((long) p * q.cols() + k) * half);
                    int d = dstOff + (k - k0) * width;
                    for (int i = 0; i < half; i++) {
                        int b = q.codes[src + i];
                        dst[d + i] = PackedMatrix.Nf4Panels.CODEBOOK[b & 0x0f] * q.absmax[am + i];
                        dst[d + half + i] = PackedMatrix.Nf4Panels.CODEBOOK[(b >> 4) & 0x0f] * q.absmax[am + half + i];
                    }
                }
            }
        } else {
            throw new IllegalArgumentException("no unpacking for " + w.getClass().getSimpleName());
        }
    }

    @Override
    public void scores(float[] q, int qOff, float[] keys, int kOff, int kStride, int headDim, int n, float scale,
                       float[] out) {
        for (int t = 0; t < n; t++) {
            int t0 = t / kStride * kStride;
            int o = kOff + t0 * headDim + t - t0;
            float acc = 0f;
            for (int i = 0; i < headDim; i++) {
                acc = Math.fma(keys[o + i * kStride], q[qOff + i], acc);
            }
            out[t] = acc * scale;
        }
    }

    @Override
    public void weightedSum(float[] p, int n, float[] values, int vOff, int vStride, int headDim, float[] out,
                            int outOff) {
        for (int j = 0; j < headDim; j++) {
            float acc = 0f;
            for (int t = 0; t < n; t++) {
                acc = Math.fma(values[vOff + t * vStride + j], p[t], acc);
            }
            out[outOff + j] = acc;
        }
    }
}
