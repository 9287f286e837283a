/*
 * Matrix products of the simulated libopapi: Matmul (with batch broadcasting, as torch.matmul),
 * Mm (2D) and BatchMatMul (3D).
 *
 * cubeMathType as the aclnnMatmul page (hicann/ops-nn matmul/mat_mul_v3/docs/aclnnMatmul.md)
 * defines it: on the Atlas training series (910A) FLOAT32 inputs need 1, which computes them in
 * FLOAT16, and 3 is not supported; on A2/A3, 1 and 3 compute FLOAT32 in HFLOAT32 and 2 in FLOAT16.
 * The operands are staged as floats in the workspace; products accumulate in FP32, as the cube
 * units do.
 */
#include <stdlib.h>
#include <string.h>

#include "aclnn_ops.h"

enum { ROUND_NONE, ROUND_HALF, ROUND_HF32 };

/* t[0] a [..., m, k], t[1] b [..., k, n], t[2] out [..., m, n] (unit dims inserted for 1D operands). */
static int k_matmul(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    const SimTensor *a = &e->t[0], *b = &e->t[1], *out = &e->t[2];
    int nd = out->nd;
    int64_t m = out->dims[nd - 2], n = out->dims[nd - 1], k = a->dims[a->nd - 1];
    int64_t batch = numel_dims(nd - 2, out->dims);
    int64_t ad[SIM_MAX_DIMS], bd[SIM_MAX_DIMS];
    memcpy(ad, out->dims, sizeof ad);
    memcpy(bd, out->dims, sizeof bd);
    ad[nd - 1] = k;
    bd[nd - 2] = k;
    float *A = (float *) ws;
    float *B = A + batch * m * k;
    gather_f32(a, nd, ad, A);
    gather_f32(b, nd, bd, B);
    int64_t na = batch * m * k, nb = batch * k * n;
    if (e->i[0] == ROUND_HALF) {
        for (int64_t i = 0; i < na; i++) A[i] = sim_round_half(A[i]);
        for (int64_t i = 0; i < nb; i++) B[i] = sim_round_half(B[i]);
    } else if (e->i[0] == ROUND_HF32) {
        for (int64_t i = 0; i < na; i++) A[i] = sim_round_hf32(A[i]);
        for (int64_t i = 0; i < nb; i++) B[i] = sim_round_hf32(B[i]);
    }
    /* Blocks of MB rows x NB columns of the result stay in the cache while every k accumulates into
     * them (in order of k, as one FP32 accumulator per element). */
    enum { MB = 32, NB = 256 };
    float *C = (float *) malloc((size_t) MB * NB * sizeof(float));
    double *result = (double *) malloc((size_t) (batch * m * n > 0 ? batch * m * n : 1) * sizeof(double));
    if (C == NULL || result == NULL) {
        free(C);
        free(result);
        return kernel_oom(e, msg, len);
    }
    for (int64_t t = 0; t < batch; t++) {
        const float *At = A + t * m * k;
        const float *Bt = B + t * k * n;
        for (int64_t i0 = 0; i0 < m; i0 += MB) {
            int64_t mi = m - i0 < MB ? m - i0 : MB;
            for (int64_t j0 = 0; j0 < n; j0 += NB) {
                int64_t nj = n - j0 < NB ? n - j0 : NB;
                memset(C, 0, (size_t) MB * NB * sizeof(float));
                for (int64_t p = 0; p < k; p++) {
                    const float *restrict row = Bt + p * n + j0;
                    for (int64_t i = 0; i < mi; i++) {
                        float x = At[(i0 + i) * k + p];
                        float *restrict c = C + i * NB;
                        for (int64_t j = 0; j < nj; j++) {
                            c[j] += x * row[j];
                        }
                    }
                }
                for (int64_t i = 0; i < mi; i++) {
                    double *r = result + (t * m + i0 + i) * n + j0;
                    for (int64_t j = 0; j < nj; j++) {
                        r[j] = C[i * NB + j];
                    }
                }
            }
        }
    }
    scatter(out, result);
    free(C);
    free(result);
    return 0;
}

/** Inserts a unit axis at position at of a tensor view. */
static void unsqueeze(SimTensor *t, int at) {
    for (int i = t->nd; i > at; i--) {
        t->dims[i] = t->dims[i - 1];
        t->strides[i] = t->strides[i - 1];
    }
    t->dims[at] = 1;
    t->strides[at] = 0;
    t->nd++;
}

static aclnnStatus matmul(const char *name, int rankRule, const aclTensor *self, const aclTensor *mat2,
                          aclTensor *out, int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    SimTensor *a = op_in(&b, self, "self");
    SimTensor *c = op_in(&b, mat2, "mat2");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, a, DT_FLOATS);
    op_dtype(&b, c, DT_FLOATS);
    op_dtype(&b, o, DT_FLOATS);
    if (rankRule) {
        op_require(&b, a->nd == rankRule && c->nd == rankRule && o->nd == rankRule,
                   "self, mat2 and out must be %dD", rankRule);
    }
    op_require(&b, a->nd >= 1 && c->nd >= 1, "self and mat2 need at least one dimension");
    op_require(&b, cubeMathType >= 0 && cubeMathType <= 4, "cubeMathType %d is not 0..4", cubeMathType);
    int round = ROUND_NONE;
    int fp32 = a->dtype == SIM_DT_FLOAT || c->dtype == SIM_DT_FLOAT;
    if (!b.status && ascendjSimIsAtlasTraining()) {
        op_require(&b, !(fp32 && cubeMathType == 0), "FLOAT32 inputs need cubeMathType 1 on %s (Atlas training "
                   "series: cubeMathType=0 is not supported for FLOAT32)", ascendjSimSocName());
        op_require(&b, cubeMathType != 3, "cubeMathType 3 (USE_HF32) is not supported on %s", ascendjSimSocName());
        round = fp32 && (cubeMathType == 1 || cubeMathType == 2) ? ROUND_HALF : ROUND_NONE;
    } else if (!b.status) {
        op_require(&b, !(cubeMathType == 2 && (a->dtype == SIM_DT_BF16 || c->dtype == SIM_DT_BF16)),
                   "cubeMathType 2 (USE_FP16) does not take BFLOAT16 inputs");
        op_require(&b, !(cubeMathType == 3 && !fp32), "cubeMathType 3 (USE_HF32) takes only FLOAT32 inputs");
        round = fp32 && (cubeMathType == 1 || cubeMathType == 3) ? ROUND_HF32
                : fp32 && cubeMathType == 2 ? ROUND_HALF : ROUND_NONE;
        op_require(&b, !((a->dtype == SIM_DT_BF16 && c->dtype == SIM_DT_FLOAT16)
                         || (a->dtype == SIM_DT_FLOAT16 && c->dtype == SIM_DT_BF16)),
                   "BFLOAT16 and FLOAT16 inputs cannot be mixed");
    }
    if (b.status) {
        return op_end(&b, k_matmul, 0, workspaceSize, executor);
    }
    /* 1D operands as torch.matmul: a vector a is [1, k], a vector b is [k, 1]; the unit axis is not in out. */
    int aVec = a->nd == 1, cVec = c->nd == 1;
    if (aVec) {
        unsqueeze(a, 0);
    }
    if (cVec) {
        unsqueeze(c, 1);
    }
    int64_t m = a->dims[a->nd - 2], k = a->dims[a->nd - 1], n = c->dims[c->nd - 1];
    op_require(&b, c->dims[c->nd - 2] == k, "the inner dimensions differ: self has %lld columns, mat2 %lld rows",
               (long long) k, (long long) c->dims[c->nd - 2]);
    int bnd = (a->nd > c->nd ? a->nd : c->nd) - 2;
    int64_t batch[SIM_MAX_DIMS];
    for (int i = 0; i < bnd && !b.status; i++) {
        int ia = i - (bnd - (a->nd - 2)), ic = i - (bnd - (c->nd - 2));
        int64_t da = ia >= 0 ? a->dims[ia] : 1, dc = ic >= 0 ? c->dims[ic] : 1;
        op_require(&b, da == dc || da == 1 || dc == 1, "batch dimension %d does not broadcast: %lld vs %lld", i,
                   (long long) da, (long long) dc);
        batch[i] = da > dc ? da : dc;
    }
    /* expected out: batch + [m] (unless a was a vector) + [n] (unless b was a vector) */
    int64_t want[SIM_MAX_DIMS];
    int wn = 0;
    for (int i = 0; i < bnd; i++) {
        want[wn++] = batch[i];
    }
    if (!aVec) {
        want[wn++] = m;
    }
    if (!cVec) {
        want[wn++] = n;
    }
    int same = o->nd == wn;
    for (int i = 0; same && i < wn; i++) {
        same = o->dims[i] == want[i];
    }
    op_require(&b, same, "out has the wrong shape for [%lld x %lld] x [%lld x %lld] products", (long long) m,
               (long long) k, (long long) k, (long long) n);
    if (b.status) {
        return op_end(&b, k_matmul, 0, workspaceSize, executor);
    }
    if (aVec) {
        unsqueeze(o, o->nd - (cVec ? 0 : 1));
    }
    if (cVec) {
        unsqueeze(o, o->nd);
    }
    b.e->i[0] = round;
    int64_t nb = numel_dims(o->nd - 2, o->dims);
    uint64_t workspace = (uint64_t) (nb * m * k + nb * k * n) * sizeof(float);
    return op_end(&b, k_matmul, workspace, workspaceSize, executor);
}

aclnnStatus aclnnMatmulGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
                                        int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return matmul("aclnnMatmul", 0, self, mat2, out, cubeMathType, workspaceSize, executor);
}
SIM_PHASE2(Matmul)

aclnnStatus aclnnMmGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
                                    int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return matmul("aclnnMm", 2, self, mat2, out, cubeMathType, workspaceSize, executor);
}
SIM_PHASE2(Mm)

aclnnStatus aclnnBatchMatMulGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
                                             int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return matmul("aclnnBatchMatMul", 3, self, mat2, out, cubeMathType, workspaceSize, executor);
}
SIM_PHASE2(BatchMatMul)
