/*
 * FlashAttentionScore and FlashAttentionScoreGrad of the simulated libopapi (hicann/ops-transformer
 * attention/flash_attention_score, flash_attention_score_grad): softmax(mask(scale * Q K^T)) V with
 * grouped-query heads, the attention mask (1 = masked) of shape [B,N,Sq,Sk], [B,1,Sq,Sk],
 * [1,1,Sq,Sk] or [Sq,Sk], the softmax statistics as [B,N,Sq,8] (max and sum, each repeated 8
 * times), and the backward from those statistics. Simulated: layouts BSND, BNSD, BSH and SBH,
 * sparseMode 0 (mask plus the preTokens/nextTokens band) and 1 (mask only), keepProb 1; pse,
 * dropout, padding masks and prefixes are reported as not simulated.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclnn_ops.h"

enum { L_BSND, L_BNSD, L_BSH, L_SBH };

/* e->i: [0] layout, [1] B, [2] N (query heads), [3] N2 (key heads), [4] Sq, [5] Sk, [6] D, [7] mask kind
 * (0 none, 1 [Sq,Sk], 2 [1,1,..] 3 [B,1,..] 4 [B,N,..]); e->f: [0] scale; e->ints: [0] preTokens,
 * [1] nextTokens, [2] sparseMode. */

static int64_t at(int layout, int64_t B, int64_t N, int64_t S, int64_t D, int64_t b, int64_t n, int64_t s, int64_t d) {
    switch (layout) {
        case L_BNSD: return ((b * N + n) * S + s) * D + d;
        case L_SBH: return ((s * B + b) * N + n) * D + d;
        default: return ((b * S + s) * N + n) * D + d; /* BSND and BSH (H = N * D) */
    }
}

static int masked(const aclOpExecutor *e, const double *mask, int64_t b, int64_t n, int64_t i, int64_t j) {
    int64_t N = e->i[2], Sq = e->i[4], Sk = e->i[5];
    if (e->ints[2] == 0 && (j - i > e->ints[1] || i - j > e->ints[0])) {
        return 1;
    }
    switch (e->i[7]) {
        case 1: case 2: return mask[i * Sk + j] != 0;
        case 3: return mask[(b * Sq + i) * Sk + j] != 0;
        case 4: return mask[((b * N + n) * Sq + i) * Sk + j] != 0;
        default: return 0;
    }
}

/* Forward slots: 0 q, 1 k, 2 v, 3 mask, 4 softmaxMax, 5 softmaxSum, 6 softmaxOut, 7 attentionOut. */
static int k_flash_attention(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int L = (int) e->i[0];
    int64_t B = e->i[1], N = e->i[2], N2 = e->i[3], Sq = e->i[4], Sk = e->i[5], D = e->i[6], r = N / N2;
    double *Q = gather_all(&e->t[0]), *K = gather_all(&e->t[1]), *V = gather_all(&e->t[2]);
    double *M = e->t[3].present ? gather_all(&e->t[3]) : NULL;
    double *O = (double *) calloc((size_t) (B * N * Sq * D), sizeof(double));
    double *MX = (double *) malloc((size_t) (B * N * Sq * 8) * sizeof(double));
    double *SM = (double *) malloc((size_t) (B * N * Sq * 8) * sizeof(double));
    double *p = (double *) malloc((size_t) Sk * sizeof(double));
    int rc = Q == NULL || K == NULL || V == NULL || O == NULL || MX == NULL || SM == NULL || p == NULL
             || (e->t[3].present && M == NULL) ? kernel_oom(e, msg, len) : 0;
    for (int64_t b = 0; b < B && !rc; b++) {
        for (int64_t n = 0; n < N; n++) {
            int64_t g = n / r;
            for (int64_t i = 0; i < Sq; i++) {
                double mx = -INFINITY;
                for (int64_t j = 0; j < Sk; j++) {
                    if (masked(e, M, b, n, i, j)) {
                        p[j] = -INFINITY;
                        continue;
                    }
                    double s = 0;
                    for (int64_t d = 0; d < D; d++) {
                        s += Q[at(L, B, N, Sq, D, b, n, i, d)] * K[at(L, B, N2, Sk, D, b, g, j, d)];
                    }
                    p[j] = s * e->f[0];
                    mx = fmax(mx, p[j]);
                }
                double sum = 0;
                for (int64_t j = 0; j < Sk; j++) {
                    p[j] = isinf(p[j]) && p[j] < 0 ? 0 : exp(p[j] - mx);
                    sum += p[j];
                }
                for (int64_t d = 0; d < D; d++) {
                    double acc = 0;
                    for (int64_t j = 0; j < Sk; j++) {
                        acc += p[j] * V[at(L, B, N2, Sk, D, b, g, j, d)];
                    }
                    O[at(L, B, N, Sq, D, b, n, i, d)] = sum > 0 ? acc / sum : 0; /* a fully masked row gives 0 */
                }
                for (int c = 0; c < 8; c++) {
                    MX[((b * N + n) * Sq + i) * 8 + c] = mx;
                    SM[((b * N + n) * Sq + i) * 8 + c] = sum;
                }
            }
        }
    }
    if (!rc) {
        scatter(&e->t[4], MX);
        scatter(&e->t[5], SM);
        scatter(&e->t[7], O);
    }
    free(Q);
    free(K);
    free(V);
    free(M);
    free(O);
    free(MX);
    free(SM);
    free(p);
    return rc;
}

/*
 * Backward slots: 0 q, 1 k, 2 v, 3 dy, 4 mask, 5 softmaxMax, 6 softmaxSum, 7 attentionIn, 8 dq, 9 dk,
 * 10 dv, 11 dpse.
 */
static int k_flash_attention_grad(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int L = (int) e->i[0];
    int64_t B = e->i[1], N = e->i[2], N2 = e->i[3], Sq = e->i[4], Sk = e->i[5], D = e->i[6], r = N / N2;
    double *Q = gather_all(&e->t[0]), *K = gather_all(&e->t[1]), *V = gather_all(&e->t[2]);
    double *DY = gather_all(&e->t[3]);
    double *M = e->t[4].present ? gather_all(&e->t[4]) : NULL;
    double *MX = gather_all(&e->t[5]), *SM = gather_all(&e->t[6]);
    double *OUT = e->t[7].present ? gather_all(&e->t[7]) : NULL;
    double *DQ = (double *) calloc((size_t) (B * N * Sq * D), sizeof(double));
    double *DK = (double *) calloc((size_t) (B * N2 * Sk * D), sizeof(double));
    double *DV = (double *) calloc((size_t) (B * N2 * Sk * D), sizeof(double));
    double *p = (double *) malloc((size_t) Sk * sizeof(double));
    double *dp = (double *) malloc((size_t) Sk * sizeof(double));
    int rc = Q == NULL || K == NULL || V == NULL || DY == NULL || MX == NULL || SM == NULL || DQ == NULL
             || DK == NULL || DV == NULL || p == NULL || dp == NULL || (e->t[4].present && M == NULL)
             || (e->t[7].present && OUT == NULL) ? kernel_oom(e, msg, len) : 0;
    for (int64_t b = 0; b < B && !rc; b++) {
        for (int64_t n = 0; n < N; n++) {
            int64_t g = n / r;
            for (int64_t i = 0; i < Sq; i++) {
                double mx = MX[((b * N + n) * Sq + i) * 8], sum = SM[((b * N + n) * Sq + i) * 8];
                for (int64_t j = 0; j < Sk; j++) {
                    if (masked(e, M, b, n, i, j) || !(sum > 0)) {
                        p[j] = 0;
                        continue;
                    }
                    double s = 0;
                    for (int64_t d = 0; d < D; d++) {
                        s += Q[at(L, B, N, Sq, D, b, n, i, d)] * K[at(L, B, N2, Sk, D, b, g, j, d)];
                    }
                    p[j] = exp(s * e->f[0] - mx) / sum;
                }
                /* rowDot = dy_i . out_i, with out recomputed when attentionIn is absent */
                double rowDot = 0;
                for (int64_t d = 0; d < D; d++) {
                    double o;
                    if (OUT != NULL) {
                        o = OUT[at(L, B, N, Sq, D, b, n, i, d)];
                    } else {
                        o = 0;
                        for (int64_t j = 0; j < Sk; j++) {
                            o += p[j] * V[at(L, B, N2, Sk, D, b, g, j, d)];
                        }
                    }
                    rowDot += DY[at(L, B, N, Sq, D, b, n, i, d)] * o;
                }
                for (int64_t j = 0; j < Sk; j++) {
                    double s = 0;
                    for (int64_t d = 0; d < D; d++) {
                        s += DY[at(L, B, N, Sq, D, b, n, i, d)] * V[at(L, B, N2, Sk, D, b, g, j, d)];
                    }
                    dp[j] = p[j] * (s - rowDot) * e->f[0];
                }
                for (int64_t j = 0; j < Sk; j++) {
                    if (p[j] == 0 && dp[j] == 0) {
                        continue;
                    }
                    for (int64_t d = 0; d < D; d++) {
                        DQ[at(L, B, N, Sq, D, b, n, i, d)] += dp[j] * K[at(L, B, N2, Sk, D, b, g, j, d)];
                        DK[at(L, B, N2, Sk, D, b, g, j, d)] += dp[j] * Q[at(L, B, N, Sq, D, b, n, i, d)];
                        DV[at(L, B, N2, Sk, D, b, g, j, d)] += p[j] * DY[at(L, B, N, Sq, D, b, n, i, d)];
                    }
                }
            }
        }
    }
    if (!rc) {
        scatter(&e->t[8], DQ);
        scatter(&e->t[9], DK);
        scatter(&e->t[10], DV);
    }
    free(Q);
    free(K);
    free(V);
    free(DY);
    free(M);
    free(MX);
    free(SM);
    free(OUT);
    free(DQ);
    free(DK);
    free(DV);
    free(p);
    free(dp);
    return rc;
}

/** Reads the layout and the sizes from q and k; returns the mask kind's check. */
static void attention_shapes(Op *b, const SimTensor *q, const SimTensor *k, const SimTensor *v, const SimTensor *mask,
                             const char *layout, int64_t headNum) {
    if (b->status) {
        return;
    }
    int L = strcmp(layout, "BSND") == 0 ? L_BSND : strcmp(layout, "BNSD") == 0 ? L_BNSD
            : strcmp(layout, "BSH") == 0 ? L_BSH : strcmp(layout, "SBH") == 0 ? L_SBH : -1;
    op_require(b, L >= 0, "inputLayout \"%s\" is not BSH, SBH, BSND or BNSD (TND is not simulated)", layout);
    op_require(b, q->nd == (L <= L_BNSD ? 4 : 3) && k->nd == q->nd, "query and key must be %dD for layout %s",
               L <= L_BNSD ? 4 : 3, layout);
    op_same_shape(b, k, v);
    op_same_dtype(b, q, k);
    op_same_dtype(b, q, v);
    if (b->status) {
        return;
    }
    int64_t B, N, N2, Sq, Sk, D;
    switch (L) {
        case L_BSND: B = q->dims[0]; Sq = q->dims[1]; N = q->dims[2]; D = q->dims[3]; Sk = k->dims[1]; N2 = k->dims[2]; break;
        case L_BNSD: B = q->dims[0]; N = q->dims[1]; Sq = q->dims[2]; D = q->dims[3]; N2 = k->dims[1]; Sk = k->dims[2]; break;
        default:
            B = L == L_BSH ? q->dims[0] : q->dims[1];
            Sq = L == L_BSH ? q->dims[1] : q->dims[0];
            Sk = L == L_BSH ? k->dims[1] : k->dims[0];
            N = headNum;
            D = headNum > 0 ? q->dims[2] / headNum : 0;
            N2 = D > 0 ? k->dims[2] / D : 0;
            op_require(b, headNum > 0 && q->dims[2] % headNum == 0 && D > 0 && k->dims[2] % D == 0,
                       "H must be headNum x D for query and a multiple of D for key");
            break;
    }
    op_require(b, headNum == N, "headNum %lld differs from query's %lld heads", (long long) headNum, (long long) N);
    op_require(b, N2 > 0 && N % N2 == 0, "query heads (%lld) must be a multiple of key heads (%lld)", (long long) N,
               (long long) N2);
    op_require(b, (L == L_BSND || L == L_BNSD ? k->dims[3] == D : 1) && (L == L_SBH ? k->dims[1] == B : k->dims[0] == B),
               "key must match query's batch and head dimension");
    int kind = 0;
    if (mask->present) {
        op_dtype(b, mask, DT(SIM_DT_BOOL) | DT(SIM_DT_UINT8));
        int64_t m2 = mask->nd >= 2 ? mask->dims[mask->nd - 2] : -1, m1 = mask->nd >= 1 ? mask->dims[mask->nd - 1] : -1;
        op_require(b, m2 == Sq && m1 == Sk, "attenMask must end in [Sq, Sk] = [%lld, %lld]", (long long) Sq,
                   (long long) Sk);
        if (mask->nd == 2) {
            kind = 1;
        } else if (mask->nd == 4 && mask->dims[0] == 1 && mask->dims[1] == 1) {
            kind = 2;
        } else if (mask->nd == 4 && mask->dims[0] == B && mask->dims[1] == 1) {
            kind = 3;
        } else if (mask->nd == 4 && mask->dims[0] == B && mask->dims[1] == N) {
            kind = 4;
        } else {
            op_require(b, 0, "attenMask must be [B,N,S,S], [B,1,S,S], [1,1,S,S] or [S,S]");
        }
    }
    if (!b->status) {
        aclOpExecutor *e = b->e;
        e->i[0] = L;
        e->i[1] = B;
        e->i[2] = N;
        e->i[3] = N2;
        e->i[4] = Sq;
        e->i[5] = Sk;
        e->i[6] = D;
        e->i[7] = kind;
    }
}

static void stats_shape(Op *b, const SimTensor *t) {
    if (b->status) {
        return;
    }
    int64_t B = b->e->i[1], N = b->e->i[2], Sq = b->e->i[4];
    op_dtype(b, t, DT(SIM_DT_FLOAT));
    op_require(b, t->nd == 4 && t->dims[0] == B && t->dims[1] == N && t->dims[2] == Sq && t->dims[3] == 8,
               "%s must be FLOAT [B, N, Sq, 8] = [%lld, %lld, %lld, 8]", t->name, (long long) B, (long long) N,
               (long long) Sq);
}

static void unsimulated(Op *b, const SimTensor *pse, const SimTensor *drop, const SimTensor *padding,
                        const aclIntArray *prefix, double keepProb, int64_t sparseMode) {
    op_require(b, !pse->present, "pse (position shift) is not simulated");
    op_require(b, !drop->present && keepProb == 1.0, "dropout (dropMask, keepProb %g) is not simulated", keepProb);
    op_require(b, !padding->present, "paddingMask is not simulated");
    op_require(b, prefix == NULL, "prefix is not simulated");
    op_require(b, sparseMode == 0 || sparseMode == 1, "sparseMode %lld is not simulated (0 and 1 are)",
               (long long) sparseMode);
}

aclnnStatus aclnnFlashAttentionScoreGetWorkspaceSize(
        const aclTensor *query, const aclTensor *key, const aclTensor *value, const aclTensor *realShiftOptional,
        const aclTensor *dropMaskOptional, const aclTensor *paddingMaskOptional, const aclTensor *attenMaskOptional,
        const aclIntArray *prefixOptional, double scaleValue, double keepProb, int64_t preTokens, int64_t nextTokens,
        int64_t headNum, char *inputLayout, int64_t innerPrecise, int64_t sparseMode, const aclTensor *softmaxMaxOut,
        const aclTensor *softmaxSumOut, const aclTensor *softmaxOutOut, const aclTensor *attentionOutOut,
        uint64_t *workspaceSize, aclOpExecutor **executor) {
    (void) innerPrecise;
    Op b;
    op_begin(&b, "aclnnFlashAttentionScore", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *q = op_in(&b, query, "query");
    SimTensor *k = op_in(&b, key, "key");
    SimTensor *v = op_in(&b, value, "value");
    SimTensor *mask = op_opt(&b, attenMaskOptional, "attenMaskOptional", 0);
    SimTensor *mx = op_out(&b, softmaxMaxOut, "softmaxMaxOut");
    SimTensor *sm = op_out(&b, softmaxSumOut, "softmaxSumOut");
    op_opt(&b, softmaxOutOut, "softmaxOutOut", 1);
    SimTensor *out = op_out(&b, attentionOutOut, "attentionOutOut");
    SimTensor pse, drop, pad;
    if (!b.status) {
        int r = ascendjSimTensor(realShiftOptional, b.op, "realShiftOptional", 0, 1, &pse);
        r = r ? r : ascendjSimTensor(dropMaskOptional, b.op, "dropMaskOptional", 0, 1, &drop);
        r = r ? r : ascendjSimTensor(paddingMaskOptional, b.op, "paddingMaskOptional", 0, 1, &pad);
        b.status = r;
        unsimulated(&b, &pse, &drop, &pad, prefixOptional, keepProb, sparseMode);
    }
    op_require(&b, inputLayout != NULL, "inputLayout must not be NULL");
    op_dtype(&b, q, DT_FLOATS);
    attention_shapes(&b, q, k, v, mask, inputLayout != NULL ? inputLayout : "", headNum);
    stats_shape(&b, mx);
    stats_shape(&b, sm);
    op_same_shape(&b, q, out);
    op_same_dtype(&b, q, out);
    if (!b.status) {
        b.e->f[0] = scaleValue;
        b.e->ints[0] = preTokens;
        b.e->ints[1] = nextTokens;
        b.e->ints[2] = sparseMode;
    }
    return op_end(&b, k_flash_attention, 0, workspaceSize, executor);
}
SIM_PHASE2(FlashAttentionScore)

aclnnStatus aclnnFlashAttentionScoreGradGetWorkspaceSize(
        const aclTensor *query, const aclTensor *keyIn, const aclTensor *value, const aclTensor *dy,
        const aclTensor *pseShiftOptional, const aclTensor *dropMaskOptional, const aclTensor *paddingMaskOptional,
        const aclTensor *attenMaskOptional, const aclTensor *softmaxMaxOptional, const aclTensor *softmaxSumOptional,
        const aclTensor *softmaxInOptional, const aclTensor *attentionInOptional, const aclIntArray *prefixOptional,
        double scaleValue, double keepProb, int64_t preTokens, int64_t nextTokens, int64_t headNum, char *inputLayout,
        int64_t innerPrecise, int64_t sparseMode, const aclTensor *dqOut, const aclTensor *dkOut,
        const aclTensor *dvOut, const aclTensor *dpseOut, uint64_t *workspaceSize, aclOpExecutor **executor) {
    (void) innerPrecise;
    (void) softmaxInOptional;
    Op b;
    op_begin(&b, "aclnnFlashAttentionScoreGrad", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *q = op_in(&b, query, "query");
    SimTensor *k = op_in(&b, keyIn, "keyIn");
    SimTensor *v = op_in(&b, value, "value");
    SimTensor *d = op_in(&b, dy, "dy");
    SimTensor *mask = op_opt(&b, attenMaskOptional, "attenMaskOptional", 0);
    /* softmaxMax and softmaxSum are what the backward recomputes the probabilities from */
    SimTensor *mx = op_in(&b, softmaxMaxOptional, "softmaxMaxOptional");
    SimTensor *sm = op_in(&b, softmaxSumOptional, "softmaxSumOptional");
    SimTensor *ain = op_opt(&b, attentionInOptional, "attentionInOptional", 0);
    SimTensor *dq = op_out(&b, dqOut, "dqOut");
    SimTensor *dk = op_out(&b, dkOut, "dkOut");
    SimTensor *dv = op_out(&b, dvOut, "dvOut");
    op_opt(&b, dpseOut, "dpseOut", 1); /* "not used yet" on the page */
    SimTensor pse, drop, pad;
    if (!b.status) {
        int r = ascendjSimTensor(pseShiftOptional, b.op, "pseShiftOptional", 0, 1, &pse);
        r = r ? r : ascendjSimTensor(dropMaskOptional, b.op, "dropMaskOptional", 0, 1, &drop);
        r = r ? r : ascendjSimTensor(paddingMaskOptional, b.op, "paddingMaskOptional", 0, 1, &pad);
        b.status = r;
        unsimulated(&b, &pse, &drop, &pad, prefixOptional, keepProb, sparseMode);
    }
    op_require(&b, inputLayout != NULL, "inputLayout must not be NULL");
    op_dtype(&b, q, DT_FLOATS);
    attention_shapes(&b, q, k, v, mask, inputLayout != NULL ? inputLayout : "", headNum);
    stats_shape(&b, mx);
    stats_shape(&b, sm);
    op_same_shape(&b, q, d);
    op_same_dtype(&b, q, d);
    if (ain->present) {
        op_same_shape(&b, q, ain);
    }
    op_same_shape(&b, q, dq);
    op_same_shape(&b, k, dk);
    op_same_shape(&b, v, dv);
    op_same_dtype(&b, q, dq);
    op_same_dtype(&b, q, dk);
    op_same_dtype(&b, q, dv);
    if (!b.status) {
        b.e->f[0] = scaleValue;
        b.e->ints[0] = preTokens;
        b.e->ints[1] = nextTokens;
        b.e->ints[2] = sparseMode;
    }
    return op_end(&b, k_flash_attention_grad, 0, workspaceSize, executor);
}
SIM_PHASE2(FlashAttentionScoreGrad)
