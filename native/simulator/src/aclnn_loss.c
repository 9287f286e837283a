/*
 * CrossEntropyLoss, CrossEntropyLossGrad (hicann/ops-nn loss/cross_entropy_loss,
 * cross_entropy_loss_grad) and ApplyAdamWV2 (optim/apply_adam_w_v2) of the simulated libopapi,
 * with the formulas and argument rules of those pages. Label smoothing and zloss, which the pages
 * mark as unsupported or "0.0 only" for the gradient, are reported as not simulated.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclnn_ops.h"

static int reduction_of(Op *b, const char *r) {
    if (r == NULL) {
        return 1; /* the page's default: mean */
    }
    if (strcmp(r, "none") == 0) {
        return 0;
    }
    if (strcmp(r, "mean") == 0) {
        return 1;
    }
    if (strcmp(r, "sum") == 0) {
        return 2;
    }
    op_require(b, 0, "reductionOptional \"%s\" is not \"mean\", \"sum\" or \"none\"", r);
    return 1;
}

static int one_element(const SimTensor *t) {
    return t->nd == 0 || (t->nd == 1 && t->dims[0] == 1);
}

static int bad_label(aclOpExecutor *e, int64_t label, int64_t c, int64_t row, char *msg, size_t len) {
    snprintf(msg, len, "%s: target %lld of row %lld is outside [0, %lld) and is not ignoreIndex", e->op,
             (long long) label, (long long) row, (long long) c);
    return SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
}

/* 0 input, 1 target, 2 weight, 3 loss, 4 logProb, 5 zloss, 6 lseForZloss; i[0] reduction, i[1] ignoreIndex. */
static int k_cross_entropy(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    int64_t n = e->t[0].dims[0], c = e->t[0].dims[1];
    float *X = (float *) ws;
    gather_f32(&e->t[0], 2, e->t[0].dims, X);
    int64_t *T = gather_ints(&e->t[1]);
    double *W = e->t[2].present ? gather_all(&e->t[2]) : NULL;
    double *LP = (double *) malloc((size_t) (n * c > 0 ? n * c : 1) * sizeof(double));
    double *L = (double *) calloc((size_t) (n > 0 ? n : 1), sizeof(double));
    int rc = T == NULL || LP == NULL || L == NULL || (e->t[2].present && W == NULL) ? kernel_oom(e, msg, len) : 0;
    double total = 0, sum = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        double mx = -INFINITY, s = 0;
        for (int64_t j = 0; j < c; j++) {
            mx = fmax(mx, X[i * c + j]);
        }
        for (int64_t j = 0; j < c; j++) {
            s += exp(X[i * c + j] - mx);
        }
        double lse = mx + log(s);
        for (int64_t j = 0; j < c; j++) {
            LP[i * c + j] = X[i * c + j] - lse;
        }
        if (T[i] == e->i[1]) {
            continue;
        }
        if (T[i] < 0 || T[i] >= c) {
            rc = bad_label(e, T[i], c, i, msg, len);
            break;
        }
        double w = W != NULL ? W[T[i]] : 1;
        L[i] = -w * LP[i * c + T[i]];
        total += w;
        sum += L[i];
    }
    if (!rc) {
        double reduced = e->i[0] == 1 ? sum / total : sum;
        scatter(&e->t[3], e->i[0] == 0 ? L : &reduced);
        scatter(&e->t[4], LP);
    }
    free(T);
    free(W);
    free(LP);
    free(L);
    return rc;
}

aclnnStatus aclnnCrossEntropyLossGetWorkspaceSize(const aclTensor *input, const aclTensor *target,
                                                  const aclTensor *weightOptional, char *reductionOptional,
                                                  int64_t ignoreIndex, double labelSmoothing,
                                                  double lseSquareScaleForZloss, bool returnZloss,
                                                  const aclTensor *lossOut, const aclTensor *logProbOut,
                                                  const aclTensor *zlossOut, const aclTensor *lseForZlossOut,
                                                  uint64_t *workspaceSize, aclOpExecutor **executor) {
    (void) lseSquareScaleForZloss;
    (void) returnZloss; /* "not supported yet; passing it has no effect" */
    Op b;
    op_begin(&b, "aclnnCrossEntropyLoss", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *x = op_in(&b, input, "input");
    SimTensor *t = op_in(&b, target, "target");
    SimTensor *w = op_opt(&b, weightOptional, "weightOptional", 0);
    SimTensor *loss = op_out(&b, lossOut, "lossOut");
    SimTensor *lp = op_out(&b, logProbOut, "logProbOut");
    /* "not supported yet: must be passed, takes no part in the computation" */
    SimTensor *z = op_out(&b, zlossOut, "zlossOut");
    SimTensor *lse = op_out(&b, lseForZlossOut, "lseForZlossOut");
    int reduction = reduction_of(&b, reductionOptional);
    op_dtype(&b, x, DT_FLOATS);
    op_dtype(&b, t, DT_INDEX);
    op_dtype(&b, w, DT(SIM_DT_FLOAT));
    op_require(&b, x->nd == 2 && x->dims[1] > 0, "input must be (N, C) with C > 0");
    op_require(&b, t->nd == 1 && (x->nd != 2 || t->dims[0] == x->dims[0]), "target must be (N)");
    op_require(&b, !w->present || (w->nd == 1 && x->nd == 2 && w->dims[0] == x->dims[1]), "weightOptional must be (C)");
    op_require(&b, labelSmoothing == 0.0, "labelSmoothing %g is not simulated (0.0 is)", labelSmoothing);
    op_same_dtype(&b, x, loss);
    op_same_dtype(&b, x, lp);
    op_same_dtype(&b, x, z);
    op_same_dtype(&b, x, lse);
    op_same_shape(&b, x, lp);
    if (reduction == 0) {
        op_require(&b, loss->nd == 1 && x->nd == 2 && loss->dims[0] == x->dims[0], "lossOut must be (N) for \"none\"");
    } else {
        op_require(&b, one_element(loss), "lossOut must be (1,) for \"mean\" and \"sum\"");
    }
    if (!b.status) {
        b.e->i[0] = reduction;
        b.e->i[1] = ignoreIndex;
    }
    return op_end(&b, k_cross_entropy, (uint64_t) numel(x) * sizeof(float), workspaceSize, executor);
}
SIM_PHASE2(CrossEntropyLoss)

/* 0 gradLoss, 1 logProb, 2 target, 3 weight, 4 gradZloss, 5 lseForZloss, 6 out; i[0] reduction, i[1] ignore. */
static int k_cross_entropy_grad(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int64_t n = e->t[1].dims[0], c = e->t[1].dims[1];
    double *G = gather_all(&e->t[0]);
    double *LP = gather_all(&e->t[1]);
    int64_t *T = gather_ints(&e->t[2]);
    double *W = e->t[3].present ? gather_all(&e->t[3]) : NULL;
    int rc = G == NULL || LP == NULL || T == NULL || (e->t[3].present && W == NULL) ? kernel_oom(e, msg, len) : 0;
    double total = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        if (T[i] == e->i[1]) {
            continue;
        }
        if (T[i] < 0 || T[i] >= c) {
            rc = bad_label(e, T[i], c, i, msg, len);
            break;
        }
        total += W != NULL ? W[T[i]] : 1;
    }
    for (int64_t i = 0; i < n && !rc; i++) {
        int ignored = T[i] == e->i[1];
        double g = e->i[0] == 0 ? G[i] : G[0];
        double nll = ignored ? 0 : g * (W != NULL ? W[T[i]] : 1) / (e->i[0] == 1 ? total : 1);
        for (int64_t j = 0; j < c; j++) {
            LP[i * c + j] = exp(LP[i * c + j]) * nll - (!ignored && j == T[i] ? nll : 0);
        }
    }
    if (!rc) {
        scatter(&e->t[6], LP);
    }
    free(G);
    free(LP);
    free(T);
    free(W);
    return rc;
}

aclnnStatus aclnnCrossEntropyLossGradGetWorkspaceSize(const aclTensor *gradLoss, const aclTensor *logProb,
                                                      const aclTensor *target, const aclTensor *weightOptional,
                                                      const aclTensor *gradZlossOptional,
                                                      const aclTensor *lseForZlossOptional, char *reductionOptional,
                                                      int64_t ignoreIndex, double labelSmoothing,
                                                      double lseSquareScaleForZloss, aclTensor *out,
                                                      uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnCrossEntropyLossGrad", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *g = op_in(&b, gradLoss, "gradLoss");
    SimTensor *lp = op_in(&b, logProb, "logProb");
    SimTensor *t = op_in(&b, target, "target");
    SimTensor *w = op_opt(&b, weightOptional, "weightOptional", 0);
    SimTensor *gz = op_opt(&b, gradZlossOptional, "gradZlossOptional", 0);
    SimTensor *lz = op_opt(&b, lseForZlossOptional, "lseForZlossOptional", 0);
    SimTensor *o = op_out(&b, out, "out");
    int reduction = reduction_of(&b, reductionOptional);
    op_dtype(&b, g, DT_FLOATS);
    op_dtype(&b, lp, DT_FLOATS);
    op_dtype(&b, t, DT(SIM_DT_INT64));
    op_dtype(&b, w, DT(SIM_DT_FLOAT));
    op_require(&b, !gz->present && !lz->present && lseSquareScaleForZloss == 0.0, "zloss is not simulated");
    op_require(&b, labelSmoothing == 0.0, "labelSmoothing must be 0.0 (the only value the page supports)");
    op_require(&b, lp->nd == 2, "logProb must be 2D (N, C)");
    op_require(&b, t->nd == 1 && (lp->nd != 2 || t->dims[0] == lp->dims[0]), "target must be (N,)");
    op_require(&b, !w->present || (w->nd == 1 && lp->nd == 2 && w->dims[0] == lp->dims[1]), "weightOptional must be (C,)");
    if (reduction == 0) {
        op_require(&b, g->nd == 1 && lp->nd == 2 && g->dims[0] == lp->dims[0], "gradLoss must be 1D (N,) for \"none\"");
    } else {
        op_require(&b, g->nd == 0, "gradLoss must be 0D for \"mean\" and \"sum\"");
    }
    op_same_shape(&b, lp, o);
    /* out's dtype is gradLoss's ("与gradLoss一致" on the page) */
    op_same_dtype(&b, g, o);
    if (!b.status) {
        b.e->i[0] = reduction;
        b.e->i[1] = ignoreIndex;
    }
    return op_end(&b, k_cross_entropy_grad, 0, workspaceSize, executor);
}
SIM_PHASE2(CrossEntropyLossGrad)

/* 0 var, 1 m, 2 v, 3 maxGradNorm, 4 grad, 5 step; f: lr, beta1, beta2, weightDecay, eps; i: amsgrad, maximize. */
static int k_adamw(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    (void) ws;
    int64_t n = numel(&e->t[0]);
    double *P = gather_all(&e->t[0]), *M = gather_all(&e->t[1]), *V = gather_all(&e->t[2]);
    double *MX = e->t[3].present ? gather_all(&e->t[3]) : NULL;
    double *G = gather_all(&e->t[4]), *S = gather_all(&e->t[5]);
    int rc = P == NULL || M == NULL || V == NULL || G == NULL || S == NULL || (e->t[3].present && MX == NULL)
             ? kernel_oom(e, msg, len) : 0;
    if (!rc && !(S[0] > 0)) {
        snprintf(msg, len, "%s: step must be greater than 0, got %g", e->op, S[0]);
        rc = SIM_ACL_ERROR_RT_AICORE_EXCEPTION;
    }
    if (!rc) {
        double lr = e->f[0], b1 = e->f[1], b2 = e->f[2], wd = e->f[3], eps = e->f[4], step = S[0];
        double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
        for (int64_t i = 0; i < n; i++) {
            double g = e->i[1] ? -G[i] : G[i];
            M[i] = b1 * M[i] + (1 - b1) * g;
            V[i] = b2 * V[i] + (1 - b2) * g * g;
            double v = V[i];
            if (e->i[0]) {
                MX[i] = fmax(MX[i], V[i]);
                v = MX[i];
            }
            P[i] = P[i] - lr * wd * P[i] - lr * (M[i] / bc1) / (sqrt(v / bc2) + eps);
        }
        scatter(&e->t[0], P);
        scatter(&e->t[1], M);
        scatter(&e->t[2], V);
        if (MX != NULL) {
            scatter(&e->t[3], MX);
        }
    }
    free(P);
    free(M);
    free(V);
    free(MX);
    free(G);
    free(S);
    return rc;
}

aclnnStatus aclnnApplyAdamWV2GetWorkspaceSize(aclTensor *varRef, aclTensor *mRef, aclTensor *vRef,
                                              aclTensor *maxGradNormOptionalRef, const aclTensor *grad,
                                              const aclTensor *step, float lr, float beta1, float beta2,
                                              float weightDecay, float eps, bool amsgrad, bool maximize,
                                              uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, "aclnnApplyAdamWV2", workspaceSize, executor);
    op_needs_a2(&b);
    SimTensor *p = op_out(&b, varRef, "varRef");
    SimTensor *m = op_out(&b, mRef, "mRef");
    SimTensor *v = op_out(&b, vRef, "vRef");
    SimTensor *mx = op_opt(&b, maxGradNormOptionalRef, "maxGradNormOptionalRef", 1);
    SimTensor *g = op_in(&b, grad, "grad");
    SimTensor *s = op_in(&b, step, "step");
    op_dtype(&b, p, DT_FLOATS);
    /* "varRef, mRef, vRef and grad must have one dtype and one shape" */
    op_same_dtype(&b, p, m);
    op_same_dtype(&b, p, v);
    op_same_dtype(&b, p, g);
    op_same_shape(&b, p, m);
    op_same_shape(&b, p, v);
    op_same_shape(&b, p, g);
    op_require(&b, p->nd >= 1 && p->nd <= 8, "varRef must have 1 to 8 dimensions");
    op_require(&b, !amsgrad || mx->present, "maxGradNormOptionalRef is required when amsgrad is true");
    if (mx->present) {
        op_same_dtype(&b, p, mx);
        op_same_shape(&b, p, mx);
    }
    op_dtype(&b, s, DT(SIM_DT_INT64) | DT(SIM_DT_FLOAT));
    op_require(&b, numel(s) == 1, "step must have one element");
    if (!b.status) {
        b.e->f[0] = lr;
        b.e->f[1] = beta1;
        b.e->f[2] = beta2;
        b.e->f[3] = weightDecay;
        b.e->f[4] = eps;
        b.e->i[0] = amsgrad;
        b.e->i[1] = maximize;
    }
    return op_end(&b, k_adamw, 0, workspaceSize, executor);
}
SIM_PHASE2(ApplyAdamWV2)
