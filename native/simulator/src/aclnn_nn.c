/*
 * Layer operators of the simulated libopapi: Embedding, EmbeddingDenseBackward (hicann/ops-nn
 * index/embedding, embedding_dense_grad), NLLLoss, NLLLossBackward (experimental/loss/nll_loss,
 * nll_loss_grad), RmsNorm, RmsNormGrad (norm/rms_norm, rms_norm_grad), SwiGlu, SwiGluGrad
 * (activation/swi_glu, swi_glu_grad) and RotaryPositionEmbedding(Grad) (hicann/ops-transformer
 * posembedding/rotary_position_embedding, rotary_position_embedding_grad), with the formulas,
 * shapes and support tables of those pages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclnn_ops.h"

/* ------------------------------------------------------------------ embedding */

/* t[0] weight [V, H], t[1] indices, t[2] out [..., H]. */
static int k_embedding(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *w = &e->t[0], *ids = &e->t[1], *out = &e->t[2];
    int64_t v = w->dims[0], h = w->dims[1], n = numel(ids);
    double *W = gather_all(w);
    int64_t *I = gather_ints(ids);
    double *O = (double *) malloc((size_t) (n * h > 0 ? n * h : 1) * sizeof(double));
    if (W == NULL || I == NULL || O == NULL) {
        free(W);
        free(I);
        free(O);
        return kernel_oom(e, msg, len);
    }
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        if (I[i] < 0 || I[i] >= v) {
            snprintf(msg, len, "%s: index %lld (position %lld of indices) is outside the %lld rows of weight", e->op,
                     (long long) I[i], (long long) i, (long long) v);
            rc = SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
        } else {
            memcpy(O + i * h, W + I[i] * h, (size_t) h * sizeof(double));
        }
    }
    if (!rc) {
        scatter(out, O);
    }
    free(W);
    free(I);
    free(O);
    return rc;
}

aclnnStatus aclnnEmbeddingGetWorkspaceSize(const aclTensor *weight, const aclTensor *indices, aclTensor *out,
                                           uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnEmbedding", workspaceSize, executor);
    SimTensor *w = op_in(&b, weight, "weight");
    SimTensor *ids = op_in(&b, indices, "indices");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, w, DT_NUMBERS);
    op_dtype(&b, ids, DT_INDEX);
    op_same_dtype(&b, w, o);
    op_require(&b, w->nd == 2, "weight must be 2D, got %dD", w->nd);
    int same = o->nd == ids->nd + 1 && (w->nd != 2 || o->dims[o->nd - 1] == w->dims[1]);
    for (int i = 0; same && i < ids->nd; i++) {
        same = o->dims[i] == ids->dims[i];
    }
    op_require(&b, same, "out must have indices' shape plus weight's row length");
    return op_end(&b, k_embedding, 0, workspaceSize, executor);
}
SIM_PHASE2(Embedding)

/* t[0] grad [..., H], t[1] indices, t[2] out [numWeights, H]; i[0] paddingIdx (-1 none), i[1] scaleGradByFreq. */
static int k_embedding_backward(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *grad = &e->t[0], *ids = &e->t[1], *out = &e->t[2];
    int64_t v = out->dims[0], h = out->dims[1], n = numel(ids);
    double *G = gather_all(grad);
    int64_t *I = gather_ints(ids);
    double *O = (double *) calloc((size_t) (v * h > 0 ? v * h : 1), sizeof(double));
    int64_t *freq = (int64_t *) calloc((size_t) (v > 0 ? v : 1), sizeof(int64_t));
    int rc = 0;
    if (G == NULL || I == NULL || O == NULL || freq == NULL) {
        rc = kernel_oom(e, msg, len);
    }
    for (int64_t i = 0; i < n && !rc; i++) {
        if (I[i] < 0 || I[i] >= v) {
            snprintf(msg, len, "%s: index %lld is outside the %lld rows of the gradient", e->op, (long long) I[i],
                     (long long) v);
            rc = SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
        } else {
            freq[I[i]]++;
        }
    }
    /* Rows accumulate in the order of the indices: a deterministic sum, the same on every run. */
    for (int64_t i = 0; i < n && !rc; i++) {
        if (I[i] == e->i[0]) {
            continue;
        }
        double scale = e->i[1] ? 1.0 / (double) freq[I[i]] : 1.0;
        for (int64_t j = 0; j < h; j++) {
            O[I[i] * h + j] += G[i * h + j] * scale;
        }
    }
    if (!rc) {
        scatter(out, O);
    }
    free(G);
    free(I);
    free(O);
    free(freq);
    return rc;
}

aclnnStatus aclnnEmbeddingDenseBackwardGetWorkspaceSize(const aclTensor *grad, const aclTensor *indices,
                                                        uint64_t numWeights, uint64_t paddingIdx, bool scaleGradByFreq,
                                                        aclTensor *out, uint64_t *workspaceSize,
                                                        aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnEmbeddingDenseBackward", workspaceSize, executor);
    SimTensor *g = op_in(&b, grad, "grad");
    SimTensor *ids = op_in(&b, indices, "indices");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, g, DT_FLOATS);
    op_dtype(&b, ids, DT_INDEX);
    op_dtype(&b, o, DT_FLOATS);
    op_require(&b, o->nd == 2 && (uint64_t) o->dims[0] == numWeights, "out must be [numWeights = %llu, H]",
               (unsigned long long) numWeights);
    op_require(&b, g->nd == ids->nd + 1 && (o->nd != 2 || g->dims[g->nd - 1] == o->dims[1]) && numel(g) ==
               numel(ids) * (g->nd ? g->dims[g->nd - 1] : 1), "grad must have indices' shape plus out's row length");
    if (!b.status) {
        b.e->i[0] = (int64_t) paddingIdx; /* all ones (-1) matches no row */
        b.e->i[1] = scaleGradByFreq;
    }
    uint64_t ws = (uint64_t) (o->present ? numel(o) : 0) * sizeof(float);
    return op_end(&b, k_embedding_backward, ws, workspaceSize, executor);
}
SIM_PHASE2(EmbeddingDenseBackward)

/* ------------------------------------------------------------------ NLL loss */

static int check_label(aclOpExecutor *e, int64_t label, int64_t c, int64_t row, char *msg, size_t len) {
    if (label < 0 || label >= c) {
        snprintf(msg, len, "%s: target %lld of row %lld is outside [0, %lld) and is not ignoreIndex", e->op,
                 (long long) label, (long long) row, (long long) c);
        return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    return 0;
}

/* t[0] self [N, C] or [C], t[1] target, t[2] weight [C], t[3] out, t[4] totalWeight; i[0] reduction, i[1] ignore. */
static int k_nll_loss(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *self = &e->t[0];
    int64_t c = self->dims[self->nd - 1], n = self->nd == 2 ? self->dims[0] : 1;
    double *X = gather_all(self);
    int64_t *T = gather_ints(&e->t[1]);
    double *W = gather_all(&e->t[2]);
    double *per = (double *) calloc((size_t) n, sizeof(double));
    int rc = X == NULL || T == NULL || W == NULL || per == NULL ? kernel_oom(e, msg, len) : 0;
    double total = 0, sum = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        if (T[i] == e->i[1]) {
            continue;
        }
        if ((rc = check_label(e, T[i], c, i, msg, len)) != 0) {
            break;
        }
        per[i] = -W[T[i]] * X[i * c + T[i]];
        total += W[T[i]];
        sum += per[i];
    }
    if (!rc) {
        double mean = sum / total; /* no counted row: 0/0 = NaN, as in PyTorch */
        double reduced = e->i[0] == 1 ? mean : sum;
        scatter(&e->t[3], e->i[0] == 0 ? per : &reduced);
        scatter(&e->t[4], &total);
    }
    free(X);
    free(T);
    free(W);
    free(per);
    return rc;
}

static void nll_shapes(Op *b, const SimTensor *self, const SimTensor *target, const SimTensor *weight) {
    op_dtype(b, self, DT_FLOATS);
    op_dtype(b, target, DT_INDEX | DT(SIM_DT_UINT8));
    op_dtype(b, weight, DT_FLOATS);
    op_require(b, self->nd == 1 || self->nd == 2, "self must be (N, C) or (C)");
    int64_t n = self->nd == 2 ? self->dims[0] : 1, c = self->nd ? self->dims[self->nd - 1] : 0;
    op_require(b, numel(target) == n && target->nd == self->nd - 1, "target must be (N) for self (N, C), () for (C)");
    op_require(b, weight->nd == 1 && weight->dims[0] == c, "weight must be (C) = (%lld)", (long long) c);
}

/** (1,) as the pages write it; a 0D tensor is taken too. */
static int one_element(const SimTensor *t) {
    return t->nd == 0 || (t->nd == 1 && t->dims[0] == 1);
}

aclnnStatus aclnnNLLLossGetWorkspaceSize(const aclTensor *self, const aclTensor *target, const aclTensor *weight,
                                         int64_t reduction, int64_t ignoreIndex, aclTensor *out,
                                         aclTensor *totalWeightOut, uint64_t *workspaceSize,
                                         aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnNLLLoss", workspaceSize, executor);
    SimTensor *x = op_in(&b, self, "self");
    SimTensor *t = op_in(&b, target, "target");
    SimTensor *w = op_in(&b, weight, "weight");
    SimTensor *o = op_out(&b, out, "out");
    SimTensor *tw = op_out(&b, totalWeightOut, "totalWeightOut");
    nll_shapes(&b, x, t, w);
    op_dtype(&b, o, DT_FLOATS);
    op_dtype(&b, tw, DT_FLOATS);
    op_require(&b, reduction >= 0 && reduction <= 2, "reduction %lld is not 0 (none), 1 (mean) or 2 (sum)",
               (long long) reduction);
    if (reduction == 0 && x->nd == 2) {
        op_require(&b, o->nd == 1 && o->dims[0] == x->dims[0], "out must be (N) for reduction none");
    } else {
        op_require(&b, one_element(o), "out must be (1,)");
    }
    op_require(&b, one_element(tw), "totalWeightOut must be (1,)");
    if (!b.status) {
        b.e->i[0] = reduction;
        b.e->i[1] = ignoreIndex;
    }
    return op_end(&b, k_nll_loss, 0, workspaceSize, executor);
}
SIM_PHASE2(NLLLoss)

/* t[0] gradOutput, t[1] self, t[2] target, t[3] weight, t[4] totalWeight, t[5] out; i[0] reduction, i[1] ignore. */
static int k_nll_loss_backward(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    const SimTensor *self = &e->t[1];
    int64_t c = self->dims[self->nd - 1], n = self->nd == 2 ? self->dims[0] : 1;
    double *G = gather_all(&e->t[0]);
    int64_t *T = gather_ints(&e->t[2]);
    double *W = gather_all(&e->t[3]);
    double *TW = gather_all(&e->t[4]);
    double *O = (double *) calloc((size_t) (n * c > 0 ? n * c : 1), sizeof(double));
    int rc = G == NULL || T == NULL || W == NULL || TW == NULL || O == NULL ? kernel_oom(e, msg, len) : 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        if (T[i] == e->i[1]) {
            continue;
        }
        if ((rc = check_label(e, T[i], c, i, msg, len)) != 0) {
            break;
        }
        double g = e->i[0] == 0 ? G[i] : G[0];
        O[i * c + T[i]] = -W[T[i]] * g / (e->i[0] == 1 ? TW[0] : 1.0);
    }
    if (!rc) {
        scatter(&e->t[5], O);
    }
    free(G);
    free(T);
    free(W);
    free(TW);
    free(O);
    return rc;
}

aclnnStatus aclnnNLLLossBackwardGetWorkspaceSize(const aclTensor *gradOutput, const aclTensor *self,
                                                 const aclTensor *target, const aclTensor *weight, int64_t reduction,
                                                 int64_t ignoreIndex, const aclTensor *totalWeight, aclTensor *out,
                                                 uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnNLLLossBackward", workspaceSize, executor);
    SimTensor *g = op_in(&b, gradOutput, "gradOutput");
    SimTensor *x = op_in(&b, self, "self");
    SimTensor *t = op_in(&b, target, "target");
    SimTensor *w = op_in(&b, weight, "weight");
    SimTensor *tw = op_in(&b, totalWeight, "totalWeight");
    SimTensor *o = op_out(&b, out, "out");
    nll_shapes(&b, x, t, w);
    op_dtype(&b, g, DT_FLOATS);
    op_dtype(&b, tw, DT_FLOATS);
    op_dtype(&b, o, DT_FLOATS);
    op_same_shape(&b, x, o);
    op_require(&b, reduction >= 0 && reduction <= 2, "reduction %lld is not 0, 1 or 2", (long long) reduction);
    if (reduction == 0 && x->nd == 2) {
        op_require(&b, g->nd == 1 && g->dims[0] == x->dims[0], "gradOutput must be (N) for reduction none");
    } else {
        op_require(&b, one_element(g), "gradOutput must have one element");
    }
    op_require(&b, one_element(tw), "totalWeight must have one element");
    if (!b.status) {
        b.e->i[0] = reduction;
        b.e->i[1] = ignoreIndex;
    }
    return op_end(&b, k_nll_loss_backward, 0, workspaceSize, executor);
}
SIM_PHASE2(NLLLossBackward)

/* ------------------------------------------------------------------ RMSNorm */

/* t[0] x, t[1] gamma, t[2] y, t[3] rstd; f[0] epsilon. Normalises over gamma's element count. */
static int k_rms_norm(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    const SimTensor *x = &e->t[0];
    int64_t n = numel(x), h = numel(&e->t[1]), rows = h ? n / h : 0;
    float *X = (float *) ws;
    gather_f32(x, x->nd, x->dims, X);
    double *G = gather_all(&e->t[1]);
    double *Y = (double *) malloc((size_t) (n > 0 ? n : 1) * sizeof(double));
    double *R = (double *) malloc((size_t) (rows > 0 ? rows : 1) * sizeof(double));
    if (G == NULL || Y == NULL || R == NULL) {
        free(G);
        free(Y);
        free(R);
        return kernel_oom(e, msg, len);
    }
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0;
        for (int64_t j = 0; j < h; j++) {
            ss += (double) X[r * h + j] * X[r * h + j];
        }
        R[r] = 1 / sqrt(ss / (double) h + e->f[0]);
        for (int64_t j = 0; j < h; j++) {
            Y[r * h + j] = X[r * h + j] * R[r] * G[j];
        }
    }
    scatter(&e->t[2], Y);
    scatter(&e->t[3], R);
    free(G);
    free(Y);
    free(R);
    return 0;
}

/** gamma is x's trailing dimensions; returns how many leading dimensions are rows. */
static int norm_rows(Op *b, const SimTensor *x, const SimTensor *gamma) {
    int lead = x->nd - gamma->nd;
    int ok = lead >= 0 && gamma->nd >= 1;
    for (int i = 0; ok && i < gamma->nd; i++) {
        ok = gamma->dims[i] == x->dims[lead + i];
    }
    op_require(b, ok, "gamma must equal x's trailing dimensions (gamma_shape = x_shape[n:])");
    return lead;
}

/** rstd: x's shape with the normalised axes 1 (the aclnnRmsNorm page); the row count alone is taken too. */
static void rstd_shape(Op *b, const SimTensor *x, const SimTensor *rstd, int lead) {
    if (b->status) {
        return;
    }
    int ok = rstd->nd == x->nd;
    for (int i = 0; ok && i < x->nd; i++) {
        ok = rstd->dims[i] == (i < lead ? x->dims[i] : 1);
    }
    int64_t rows = numel_dims(lead, x->dims);
    op_require(b, ok || numel(rstd) == rows, "rstd must be x's shape with the normalised axes 1 (%lld rows)",
               (long long) rows);
}

aclnnStatus aclnnRmsNormGetWorkspaceSize(const aclTensor *x, const aclTensor *gamma, double epsilon, aclTensor *yOut,
                                         aclTensor *rstdOut, uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnRmsNorm", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *xs = op_in(&b, x, "x");
    SimTensor *g = op_in(&b, gamma, "gamma");
    SimTensor *y = op_out(&b, yOut, "yOut");
    SimTensor *r = op_out(&b, rstdOut, "rstdOut");
    op_dtype(&b, xs, DT_FLOATS);
    op_dtype(&b, g, DT_FLOATS);
    op_dtype(&b, r, DT(SIM_DT_FLOAT));
    op_same_shape(&b, xs, y);
    op_same_dtype(&b, xs, y);
    int lead = norm_rows(&b, xs, g);
    rstd_shape(&b, xs, r, lead);
    if (!b.status) {
        b.e->f[0] = epsilon;
    }
    return op_end(&b, k_rms_norm, (uint64_t) numel(xs) * sizeof(float), workspaceSize, executor);
}
SIM_PHASE2(RmsNorm)

/* t[0] dy, t[1] x, t[2] rstd, t[3] gamma, t[4] dx, t[5] dgamma. */
static int k_rms_norm_grad(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int64_t n = numel(&e->t[1]), h = numel(&e->t[3]), rows = h ? n / h : 0;
    double *DY = gather_all(&e->t[0]);
    double *X = gather_all(&e->t[1]);
    double *R = gather_all(&e->t[2]);
    double *G = gather_all(&e->t[3]);
    double *DG = (double *) calloc((size_t) (h > 0 ? h : 1), sizeof(double));
    if (DY == NULL || X == NULL || R == NULL || G == NULL || DG == NULL) {
        free(DY);
        free(X);
        free(R);
        free(G);
        free(DG);
        return kernel_oom(e, msg, len);
    }
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0;
        for (int64_t j = 0; j < h; j++) {
            mean += DY[r * h + j] * G[j] * X[r * h + j] * R[r];
        }
        mean /= (double) h;
        for (int64_t j = 0; j < h; j++) {
            double x = X[r * h + j];
            DG[j] += R[r] * x * DY[r * h + j];
            DY[r * h + j] = (DY[r * h + j] * G[j] - R[r] * x * mean) * R[r];
        }
    }
    scatter(&e->t[4], DY);
    scatter(&e->t[5], DG);
    free(DY);
    free(X);
    free(R);
    free(G);
    free(DG);
    return 0;
}

aclnnStatus aclnnRmsNormGradGetWorkspaceSize(const aclTensor *dy, const aclTensor *x, const aclTensor *rstd,
                                             const aclTensor *gamma, aclTensor *dxOut, aclTensor *dgammaOut,
                                             uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnRmsNormGrad", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *d = op_in(&b, dy, "dy");
    SimTensor *xs = op_in(&b, x, "x");
    SimTensor *r = op_in(&b, rstd, "rstd");
    SimTensor *g = op_in(&b, gamma, "gamma");
    SimTensor *dx = op_out(&b, dxOut, "dxOut");
    SimTensor *dg = op_out(&b, dgammaOut, "dgammaOut");
    op_dtype(&b, d, DT_FLOATS);
    op_dtype(&b, xs, DT_FLOATS);
    op_dtype(&b, r, DT(SIM_DT_FLOAT));
    op_dtype(&b, g, DT_FLOATS);
    op_dtype(&b, dx, DT_FLOATS);
    op_dtype(&b, dg, DT(SIM_DT_FLOAT));
    op_require(&b, xs->nd >= 2 && xs->nd <= 8, "dy and x must have 2 to 8 dimensions");
    op_same_shape(&b, d, xs);
    op_same_shape(&b, d, dx);
    op_same_shape(&b, g, dg);
    int lead = norm_rows(&b, xs, g);
    rstd_shape(&b, xs, r, lead);
    return op_end(&b, k_rms_norm_grad, (uint64_t) numel(xs) * sizeof(float), workspaceSize, executor);
}
SIM_PHASE2(RmsNormGrad)

/* ------------------------------------------------------------------ SwiGLU */

/* t[0] x (forward) or yGrad, t[1] x (backward); out last. i[0] axis: out = silu(first half) * second half. */
static int k_swiglu(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int backward = e->nt == 3;
    const SimTensor *x = &e->t[backward ? 1 : 0];
    const SimTensor *out = &e->t[backward ? 2 : 1];
    int ax = (int) e->i[0];
    double *X = gather_all(x);
    double *DY = backward ? gather_all(&e->t[0]) : NULL;
    int64_t n = numel(x);
    double *O = (double *) malloc((size_t) (n > 0 ? n : 1) * sizeof(double));
    if (X == NULL || O == NULL || (backward && DY == NULL)) {
        free(X);
        free(DY);
        free(O);
        return kernel_oom(e, msg, len);
    }
    int64_t two = x->dims[ax], half = two / 2, inner = 1;
    for (int a = ax + 1; a < x->nd; a++) {
        inner *= x->dims[a];
    }
    int64_t outer = two * inner != 0 ? n / (two * inner) : 0;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < half; j++) {
            for (int64_t i = 0; i < inner; i++) {
                double a = X[(o * two + j) * inner + i];
                double bb = X[(o * two + half + j) * inner + i];
                double s = 1 / (1 + exp(-a));
                if (!backward) {
                    O[(o * half + j) * inner + i] = a * s * bb;
                } else {
                    double g = DY[(o * half + j) * inner + i];
                    O[(o * two + j) * inner + i] = g * bb * s * (1 + a * (1 - s));
                    O[(o * two + half + j) * inner + i] = g * a * s;
                }
            }
        }
    }
    scatter(out, O);
    free(X);
    free(DY);
    free(O);
    return 0;
}

static aclnnStatus swiglu(const char *name, const aclTensor *yGrad, const aclTensor *x, int64_t dim, aclTensor *out,
                          uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *g = yGrad != NULL || strcmp(name, "aclnnSwiGluGrad") == 0 ? op_in(&b, yGrad, "yGrad") : NULL;
    SimTensor *xs = op_in(&b, x, "x");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, xs, DT_FLOATS);
    op_same_dtype(&b, xs, o);
    int ax = axis_of(dim, xs->nd);
    op_require(&b, ax >= 0 && xs->nd > 0 && xs->dims[ax] % 2 == 0, "dim %lld must be an axis of x with even length",
               (long long) dim);
    if (!b.status) {
        int64_t half[SIM_MAX_DIMS];
        memcpy(half, xs->dims, sizeof half);
        half[ax] /= 2;
        const SimTensor *small = g != NULL ? g : o;
        int same = small->nd == xs->nd;
        for (int i = 0; same && i < xs->nd; i++) {
            same = small->dims[i] == half[i];
        }
        op_require(&b, same, "%s must be x's shape with dim %lld halved", g != NULL ? "yGrad" : "out", (long long) dim);
        if (g != NULL) {
            op_same_dtype(&b, g, xs);
            op_same_shape(&b, xs, o);
        }
        b.e->i[0] = ax;
    }
    return op_end(&b, k_swiglu, 0, workspaceSize, executor);
}

aclnnStatus aclnnSwiGluGetWorkspaceSize(const aclTensor *x, int64_t dim, aclTensor *out, uint64_t *workspaceSize,
                                        aclOpExecutor **executor) {
    return swiglu("aclnnSwiGlu", NULL, x, dim, out, workspaceSize, executor);
}
SIM_PHASE2(SwiGlu)

aclnnStatus aclnnSwiGluGradGetWorkspaceSize(const aclTensor *yGrad, const aclTensor *x, int64_t dim, aclTensor *out,
                                            uint64_t *workspaceSize, aclOpExecutor **executor) {
    return swiglu("aclnnSwiGluGrad", yGrad, x, dim, out, workspaceSize, executor);
}
SIM_PHASE2(SwiGluGrad)

/* ------------------------------------------------------------------ rotary position embedding */

/*
 * Every mode is y[j] = cos[j] * x[p1[j]] + sin[j] * s2[j] * x[p2[j]] along the last axis
 * (the four formulas of the aclnnRotaryPositionEmbedding page); the gradient is its transpose.
 */
static void rope_maps(int mode, int64_t d, int64_t *p1, int64_t *p2, double *s2) {
    int64_t h = d / 2, q = d / 4;
    for (int64_t j = 0; j < d; j++) {
        p1[j] = j;
        switch (mode) {
            case 0: /* half: rotate = cat(-x2, x1) */
                p2[j] = j < h ? j + h : j - h;
                s2[j] = j < h ? -1 : 1;
                break;
            case 1: /* interleave: pairs (x[2i], x[2i+1]) -> (-x[2i+1], x[2i]) */
                p2[j] = j % 2 == 0 ? j + 1 : j - 1;
                s2[j] = j % 2 == 0 ? -1 : 1;
                break;
            case 2: /* quarter: cat(-x2, x1, -x4, x3) */
                p2[j] = (j / q) % 2 == 0 ? j + q : j - q;
                s2[j] = (j / q) % 2 == 0 ? -1 : 1;
                break;
            default: /* interleave-half: part1 = cat(x[::2], x[1::2]), part2 = cat(-x[1::2], x[::2]) */
                p1[j] = j < h ? 2 * j : 2 * (j - h) + 1;
                p2[j] = j < h ? 2 * j + 1 : 2 * (j - h);
                s2[j] = j < h ? -1 : 1;
                break;
        }
    }
}

/*
 * Forward: t[0] x, t[1] cos, t[2] sin, t[3] out. Backward: t[0] dy, t[1] cos, t[2] sin, t[3] xOptional,
 * t[4] dxOut, t[5] dcosOut, t[6] dsinOut. i[0] mode.
 */
static int k_rope(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int backward = e->nt == 7;
    const SimTensor *x = &e->t[0];
    int64_t n = numel(x), d = x->dims[x->nd - 1], rows = d ? n / d : 0;
    double *X = gather_all(x);
    double *C = gather(&e->t[1], x->nd, x->dims);
    double *S = gather(&e->t[2], x->nd, x->dims);
    double *O = (double *) calloc((size_t) (n > 0 ? n : 1), sizeof(double));
    int64_t *p1 = (int64_t *) malloc((size_t) d * sizeof(int64_t));
    int64_t *p2 = (int64_t *) malloc((size_t) d * sizeof(int64_t));
    double *s2 = (double *) malloc((size_t) d * sizeof(double));
    int rc = X == NULL || C == NULL || S == NULL || O == NULL || p1 == NULL || p2 == NULL || s2 == NULL
             ? kernel_oom(e, msg, len) : 0;
    if (!rc) {
        rope_maps((int) e->i[0], d, p1, p2, s2);
        for (int64_t r = 0; r < rows; r++) {
            const double *xr = X + r * d, *cr = C + r * d, *sr = S + r * d;
            double *o = O + r * d;
            for (int64_t j = 0; j < d; j++) {
                if (!backward) {
                    o[j] = cr[j] * xr[p1[j]] + sr[j] * s2[j] * xr[p2[j]];
                } else {
                    o[p1[j]] += cr[j] * xr[j];
                    o[p2[j]] += sr[j] * s2[j] * xr[j];
                }
            }
        }
        scatter(&e->t[backward ? 4 : 3], O);
    }
    if (!rc && backward && e->t[3].present) {
        /* dcos = sum(dy * part1(x)), dsin = sum(dy * part2(x)) over the axes cos and sin broadcast over */
        const SimTensor *dcos = &e->t[5];
        double *XS = gather_all(&e->t[3]);
        int64_t cn = numel(dcos);
        double *DC = (double *) calloc((size_t) (cn > 0 ? cn : 1), sizeof(double));
        double *DS = (double *) calloc((size_t) (cn > 0 ? cn : 1), sizeof(double));
        if (XS == NULL || DC == NULL || DS == NULL) {
            rc = kernel_oom(e, msg, len);
        } else {
            int64_t idx[SIM_MAX_DIMS] = {0};
            for (int64_t i = 0; i < n; i++) {
                int64_t j = idx[x->nd - 1], base = i - j, c = 0;
                for (int a = 0; a < x->nd; a++) {
                    int64_t da = dcos->dims[a];
                    c = c * da + (da == 1 ? 0 : idx[a]);
                }
                DC[c] += X[i] * XS[base + p1[j]];
                DS[c] += X[i] * s2[j] * XS[base + p2[j]];
                for (int a = x->nd - 1; a >= 0; a--) {
                    if (++idx[a] < x->dims[a]) {
                        break;
                    }
                    idx[a] = 0;
                }
            }
            scatter(dcos, DC);
            scatter(&e->t[6], DS);
        }
        free(XS);
        free(DC);
        free(DS);
    }
    free(X);
    free(C);
    free(S);
    free(O);
    free(p1);
    free(p2);
    free(s2);
    return rc;
}

/** cos and sin: (1|B, 1|S, 1|N, D) against x (B, S, N, D), as the page lists them. */
static void rope_tables(Op *b, const SimTensor *x, const SimTensor *cos, const SimTensor *sin) {
    op_same_shape(b, cos, sin);
    op_same_dtype(b, x, cos);
    op_same_dtype(b, x, sin);
    if (b->status) {
        return;
    }
    int ok = cos->nd == 4;
    for (int i = 0; ok && i < 3; i++) {
        ok = cos->dims[i] == 1 || cos->dims[i] == x->dims[i];
    }
    op_require(b, ok && cos->dims[3] == x->dims[3], "cos and sin must be (1|B, 1|S, 1|N, D) for x (B, S, N, D)");
}

static void rope_mode(Op *b, const SimTensor *x, int64_t mode) {
    op_require(b, mode >= 0 && mode <= 3, "mode %lld is not 0 (half), 1 (interleave), 2 (quarter) or 3 "
               "(interleave-half)", (long long) mode);
    if (!b->status) {
        int64_t d = x->dims[3];
        op_require(b, d <= 1024 && d % (mode == 2 ? 4 : 2) == 0, "D = %lld must be at most 1024 and divisible by %d",
                   (long long) d, mode == 2 ? 4 : 2);
    }
}

aclnnStatus aclnnRotaryPositionEmbeddingGetWorkspaceSize(const aclTensor *x, const aclTensor *cos,
                                                         const aclTensor *sin, int64_t mode, aclTensor *out,
                                                         uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnRotaryPositionEmbedding", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *xs = op_in(&b, x, "x");
    SimTensor *c = op_in(&b, cos, "cos");
    SimTensor *s = op_in(&b, sin, "sin");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, xs, DT_FLOATS);
    op_require(&b, xs->nd == 4, "x must be 4D (BSND, BNSD or SBND)");
    op_same_shape(&b, xs, o);
    op_same_dtype(&b, xs, o);
    rope_tables(&b, xs, c, s);
    rope_mode(&b, xs, mode);
    if (!b.status) {
        b.e->i[0] = mode;
    }
    return op_end(&b, k_rope, 0, workspaceSize, executor);
}
SIM_PHASE2(RotaryPositionEmbedding)

aclnnStatus aclnnRotaryPositionEmbeddingGradGetWorkspaceSize(const aclTensor *dy, const aclTensor *cos,
                                                             const aclTensor *sin, const aclTensor *xOptional,
                                                             int64_t mode, aclTensor *dxOut, aclTensor *dcosOut,
                                                             aclTensor *dsinOut, uint64_t *workspaceSize,
                                                             aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnRotaryPositionEmbeddingGrad", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *d = op_in(&b, dy, "dy");
    SimTensor *c = op_in(&b, cos, "cos");
    SimTensor *s = op_in(&b, sin, "sin");
    SimTensor *xs = op_opt(&b, xOptional, "xOptional", 0);
    SimTensor *dx = op_out(&b, dxOut, "dxOut");
    /* The page: dcosOut and dsinOut must not be NULL; without xOptional they are empty tensors. */
    SimTensor *dc = op_out(&b, dcosOut, "dcosOut");
    SimTensor *ds = op_out(&b, dsinOut, "dsinOut");
    op_dtype(&b, d, DT_FLOATS);
    op_require(&b, d->nd == 4, "dy must be 4D");
    op_same_shape(&b, d, dx);
    op_same_dtype(&b, d, dx);
    rope_tables(&b, d, c, s);
    rope_mode(&b, d, mode);
    if (xs->present) {
        op_same_shape(&b, d, xs);
        op_same_shape(&b, c, dc);
        op_same_shape(&b, c, ds);
    }
    if (!b.status) {
        b.e->i[0] = mode;
    }
    return op_end(&b, k_rope, 0, workspaceSize, executor);
}
SIM_PHASE2(RotaryPositionEmbeddingGrad)
