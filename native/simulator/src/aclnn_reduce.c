/*
 * Reductions and softmax of the simulated libopapi: Mean, ReduceSum (hicann/ops-math
 * math/reduce_mean, math/reduce_sum), Softmax, SoftmaxBackward, LogSoftmax, LogSoftmaxBackward
 * (hicann/ops-nn activation/softmax_v2, softmax_grad, log_softmax_v2, log_softmax_grad). The input
 * is staged as floats in the workspace; sums accumulate in double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aclnn_ops.h"

/* t[0] self, t[1] out; e->ints reduced-axis flags per input axis, e->i[0] 1 for a mean. */
static int k_reduce(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    const SimTensor *in = &e->t[0], *out = &e->t[1];
    int64_t n = numel(in);
    float *x = (float *) ws;
    gather_f32(in, in->nd, in->dims, x);
    int64_t outN = numel(out);
    double *acc = (double *) calloc((size_t) (outN > 0 ? outN : 1), sizeof(double));
    if (acc == NULL) {
        return kernel_oom(e, msg, len);
    }
    int64_t idx[SIM_MAX_DIMS] = {0};
    int64_t count = 1;
    for (int a = 0; a < in->nd; a++) {
        if (e->ints[a]) {
            count *= in->dims[a];
        }
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t o = 0;
        for (int a = 0; a < in->nd; a++) {
            if (!e->ints[a]) {
                o = o * in->dims[a] + idx[a];
            }
        }
        acc[o] += x[i];
        for (int a = in->nd - 1; a >= 0; a--) {
            if (++idx[a] < in->dims[a]) {
                break;
            }
            idx[a] = 0;
        }
    }
    if (e->i[0]) {
        for (int64_t i = 0; i < outN; i++) {
            acc[i] = count ? acc[i] / (double) count : NAN;
        }
    }
    scatter(out, acc);
    free(acc);
    return 0;
}

static aclnnStatus reduce(const char *name, int mean, const aclTensor *self, const aclIntArray *dim, bool keepDim,
                          aclDataType dtype, aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    SimTensor *a = op_in(&b, self, "self");
    SimTensor *o = op_out(&b, out, "out");
    int64_t axes[SIM_MAX_DIMS * 2];
    int na = 0;
    if (!b.status) {
        int r = ascendjSimIntArray(dim, name, mean ? "dim" : "dims", 0, axes, SIM_MAX_DIMS * 2, &na);
        if (r) {
            b.status = r;
        }
    }
    op_dtype(&b, a, DT_NUMBERS);
    op_dtype(&b, o, DT_NUMBERS);
    op_require(&b, sim_dtype_size((int) dtype) > 0, "dtype %d is not supported", (int) dtype);
    if (!mean) {
        op_require(&b, !o->present || o->dtype == (int) dtype, "dtype %s differs from out's %s",
                   sim_dtype_name((int) dtype), sim_dtype_name(o->dtype));
    }
    if (b.status) {
        return op_end(&b, k_reduce, 0, workspaceSize, executor);
    }
    int flags[SIM_MAX_DIMS] = {0};
    for (int i = 0; i < na; i++) {
        int ax = axis_of(axes[i], a->nd);
        op_require(&b, ax >= 0 || (a->nd == 0 && (axes[i] == 0 || axes[i] == -1)), "axis %lld is outside a %dD tensor",
                   (long long) axes[i], a->nd);
        op_require(&b, ax < 0 || !flags[ax], "axis %lld is given twice", (long long) axes[i]);
        if (ax >= 0) {
            flags[ax] = 1;
        }
    }
    if (na == 0) { /* no axes: every axis */
        for (int i = 0; i < a->nd; i++) {
            flags[i] = 1;
        }
    }
    int64_t want[SIM_MAX_DIMS];
    int wn = 0;
    for (int i = 0; i < a->nd; i++) {
        if (!flags[i]) {
            want[wn++] = a->dims[i];
        } else if (keepDim) {
            want[wn++] = 1;
        }
    }
    int same = o->nd == wn || (wn == 0 && o->nd == 1 && o->dims[0] == 1);
    for (int i = 0; same && i < wn && o->nd == wn; i++) {
        same = o->dims[i] == want[i];
    }
    op_require(&b, same, "out has %dD shape, the reduction gives %d dimensions", o->nd, wn);
    if (!b.status) {
        for (int i = 0; i < a->nd; i++) {
            b.e->ints[i] = flags[i];
        }
        b.e->i[0] = mean;
    }
    return op_end(&b, k_reduce, (uint64_t) numel(a) * sizeof(float), workspaceSize, executor);
}

aclnnStatus aclnnMeanGetWorkspaceSize(const aclTensor *self, const aclIntArray *dim, bool keepDim, aclDataType dtype,
                                      aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return reduce("aclnnMean", 1, self, dim, keepDim, dtype, out, workspaceSize, executor);
}
SIM_PHASE2(Mean)

aclnnStatus aclnnReduceSumGetWorkspaceSize(const aclTensor *self, const aclIntArray *dims, bool keepDims,
                                           aclDataType dtype, aclTensor *out, uint64_t *workspaceSize,
                                           aclOpExecutor **executor) {
    return reduce("aclnnReduceSum", 0, self, dims, keepDims, dtype, out, workspaceSize, executor);
}
SIM_PHASE2(ReduceSum)

/* ------------------------------------------------------------------ softmax family */

enum { SM_SOFTMAX, SM_LOG_SOFTMAX, SM_SOFTMAX_GRAD, SM_LOG_SOFTMAX_GRAD };

/*
 * Forward: t[0] self, t[1] out. Backward: t[0] gradOutput, t[1] output (the forward's result),
 * t[2] out. e->i[0] kind, e->i[1] axis.
 */
static int k_softmax(aclOpExecutor *e, char *ws, char *msg, size_t len) {
    int kind = (int) e->i[0];
    int backward = kind >= SM_SOFTMAX_GRAD;
    const SimTensor *x = &e->t[backward ? 1 : 0];
    const SimTensor *out = &e->t[backward ? 2 : 1];
    int ax = (int) e->i[1];
    int64_t n = numel(x);
    float *v = (float *) ws;
    gather_f32(x, x->nd, x->dims, v);
    double *g = backward ? gather_all(&e->t[0]) : NULL;
    double *y = (double *) malloc((size_t) (n > 0 ? n : 1) * sizeof(double));
    if (y == NULL || (backward && g == NULL)) {
        free(g);
        free(y);
        return kernel_oom(e, msg, len);
    }
    int64_t l = x->nd ? x->dims[ax] : 1;
    int64_t inner = 1;
    for (int a = ax + 1; a < x->nd; a++) {
        inner *= x->dims[a];
    }
    int64_t outer = l * inner != 0 ? n / (l * inner) : 0;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * l * inner + i;
            if (kind == SM_SOFTMAX || kind == SM_LOG_SOFTMAX) {
                double mx = -INFINITY, s = 0;
                for (int64_t j = 0; j < l; j++) {
                    mx = fmax(mx, v[base + j * inner]);
                }
                for (int64_t j = 0; j < l; j++) {
                    s += exp(v[base + j * inner] - mx);
                }
                double lse = mx + log(s);
                for (int64_t j = 0; j < l; j++) {
                    double t = v[base + j * inner] - lse;
                    y[base + j * inner] = kind == SM_LOG_SOFTMAX ? t : exp(t);
                }
            } else if (kind == SM_SOFTMAX_GRAD) {
                /* out = (grad - sum(grad * y)) * y */
                double dot = 0;
                for (int64_t j = 0; j < l; j++) {
                    dot += g[base + j * inner] * v[base + j * inner];
                }
                for (int64_t j = 0; j < l; j++) {
                    y[base + j * inner] = (g[base + j * inner] - dot) * v[base + j * inner];
                }
            } else {
                /* out = grad - exp(y) * sum(grad), y the log-softmax output */
                double s = 0;
                for (int64_t j = 0; j < l; j++) {
                    s += g[base + j * inner];
                }
                for (int64_t j = 0; j < l; j++) {
                    y[base + j * inner] = g[base + j * inner] - exp(v[base + j * inner]) * s;
                }
            }
        }
    }
    scatter(out, y);
    free(g);
    free(y);
    return 0;
}

static aclnnStatus softmax(const char *name, int kind, const aclTensor *grad, const aclTensor *self, int64_t dim,
                           aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor) {
    Op b;
    op_begin(&b, name, workspaceSize, executor);
    int backward = kind >= SM_SOFTMAX_GRAD;
    SimTensor *g = backward ? op_in(&b, grad, "gradOutput") : NULL;
    SimTensor *x = op_in(&b, self, backward ? "output" : "self");
    SimTensor *o = op_out(&b, out, "out");
    op_dtype(&b, x, DT_FLOATS | DT(SIM_DT_DOUBLE));
    op_dtype(&b, o, DT_FLOATS | DT(SIM_DT_DOUBLE));
    op_same_shape(&b, x, o);
    if (backward) {
        op_dtype(&b, g, DT_FLOATS | DT(SIM_DT_DOUBLE));
        op_same_shape(&b, g, x);
    }
    int ax = axis_of(dim, x->nd);
    op_require(&b, ax >= 0, "dim %lld is outside a %dD tensor", (long long) dim, x->nd);
    if (!b.status) {
        b.e->i[0] = kind;
        b.e->i[1] = x->nd ? ax : 0;
    }
    return op_end(&b, k_softmax, (uint64_t) numel(x) * sizeof(float), workspaceSize, executor);
}

aclnnStatus aclnnSoftmaxGetWorkspaceSize(const aclTensor *self, int64_t dim, aclTensor *out, uint64_t *workspaceSize,
                                         aclOpExecutor **executor) {
    return softmax("aclnnSoftmax", SM_SOFTMAX, NULL, self, dim, out, workspaceSize, executor);
}
SIM_PHASE2(Softmax)

aclnnStatus aclnnLogSoftmaxGetWorkspaceSize(const aclTensor *self, int64_t dim, aclTensor *out,
                                            uint64_t *workspaceSize, aclOpExecutor **executor) {
    return softmax("aclnnLogSoftmax", SM_LOG_SOFTMAX, NULL, self, dim, out, workspaceSize, executor);
}
SIM_PHASE2(LogSoftmax)

aclnnStatus aclnnSoftmaxBackwardGetWorkspaceSize(const aclTensor *gradOutput, const aclTensor *output, int64_t dim,
                                                 aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor) {
    return softmax("aclnnSoftmaxBackward", SM_SOFTMAX_GRAD, gradOutput, output, dim, out, workspaceSize, executor);
}
SIM_PHASE2(SoftmaxBackward)

aclnnStatus aclnnLogSoftmaxBackwardGetWorkspaceSize(const aclTensor *gradOutput, const aclTensor *output, int64_t dim,
                                                    aclTensor *out, uint64_t *workspaceSize,
                                                    aclOpExecutor **executor) {
    return softmax("aclnnLogSoftmaxBackward", SM_LOG_SOFTMAX_GRAD, gradOutput, output, dim, out, workspaceSize,
                   executor);
}
SIM_PHASE2(LogSoftmaxBackward)
